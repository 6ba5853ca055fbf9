package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.Child;
import org.streams4j.testsupport.TimeScale;
import org.streams4j.testsupport.VirtualThreadsMain;

/**
 * Issue 23, item 1: a virtual thread blocked in streams4j parks and never
 * holds its carrier (Parking): 1,000 virtual threads blocked in read, in
 * accept and in connect-then-read, with a virtual thread that still runs to
 * wake them; a server with a virtual thread per connection that 1,000 idle
 * clients do not stop; a writer on a full pipe; close, interrupt, time-outs,
 * poll and receiveFd. In this JVM with its binding (JNA on JDK 21, FFM on
 * 22+), and in a child JVM on JNA with two carriers. Skipped on JDK 17,
 * which has no virtual threads.
 */
class VirtualThreadTest {
    private static final Duration GUARD = TimeScale.guard(Duration.ofSeconds(100));
    /** 1,000, or fewer under a low descriptor limit (VirtualThreadsMain.waiters). */
    private static final int N = VirtualThreadsMain.waiters();

    @TempDir
    Path dir;

    @BeforeEach
    void needsVirtualThreads() {
        assumeTrue(VirtualThreadsMain.virtualFactory() != null, "no virtual threads on JDK "
            + Runtime.version().feature());
    }

    private String run(String scenario) throws Exception {
        Parking.startPollers();     // the JVM's: not the test's to close
        TestSupport.Descriptors before = TestSupport.Descriptors.now();
        String detail = VirtualThreadsMain.run(scenario, dir, N);
        TestSupport.assertClosedSince(before, TimeScale.guard(Duration.ofSeconds(10)), dir);
        return detail;
    }

    @Test
    void thousandReadersParkAndAWriterStillRuns() throws Exception {
        assertTrue(run("readers").startsWith(N + " readers parked"));
    }

    @Test
    void thousandAcceptorsParkAndAClientStillRuns() throws Exception {
        assertTrue(run("acceptors").startsWith(N + " acceptors parked"));
    }

    @Test
    void thousandConnectorsParkInReadAndVirtualHandlersAnswer() throws Exception {
        assertTrue(run("connectors").startsWith(N + " virtual clients"));
    }

    @Test
    void thousandIdleClientsDoNotStopAServerWithAVirtualThreadPerConnection() throws Exception {
        assertTrue(run("idleClients").startsWith(N + " idle clients"));
    }

    @Test
    void aWriterOnAFullPipeParks() throws Exception {
        run("writerOnFullPipe");
    }

    @Test
    void closeAndInterruptWakeAParkedReader() throws Exception {
        run("closeAndInterrupt");
    }

    @Test
    void timedReadsAndPollsPark() throws Exception {
        run("timedReadAndPoll");
    }

    @Test
    void receiveFdParks() throws Exception {
        run("receiveFd");
    }

    @Test
    void messageReceivesAndSendsPark() throws Exception {
        assertTrue(run("messages").startsWith(N + " message readers parked"));
    }

    /** The same scenarios on the JNA binding (this JVM may use FFM), with two carriers only. */
    @Test
    void everyScenarioOnJnaWithTwoCarriers() throws Exception {
        List<String> jvm = new ArrayList<>(List.of("-Dstreams4j.binding=jna",
            "-Djdk.virtualThreadScheduler.parallelism=2", "-Djdk.virtualThreadScheduler.maxPoolSize=2"));
        if (Runtime.version().feature() >= 22) {
            jvm.add("--enable-native-access=ALL-UNNAMED");
        }
        try (Child c = Child.startWithJvmOptions(jvm, VirtualThreadsMain.class,
            VirtualThreadsMain.SCENARIOS.toArray(new String[0]))) {
            assertTrue(c.awaitLine("binding ", GUARD).startsWith("binding JNA"), String.valueOf(c.output()));
            for (String s : VirtualThreadsMain.SCENARIOS) {
                c.awaitLine("ok " + s + ":", GUARD);
            }
            c.awaitLine("done", GUARD);
            assertEquals(0, c.awaitExit(GUARD), String.valueOf(c.output()));
        }
    }
}
