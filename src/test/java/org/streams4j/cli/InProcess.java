package org.streams4j.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * streamsctl run inside the test JVM, for attacks that need hundreds of
 * runs (a JVM per run would take minutes): the same commands, converters
 * and error handling as the launcher's, without its logging set-up (which
 * would reset the test JVM's). stdout and stderr are captured.
 */
public final class InProcess {
    private InProcess() {
    }

    /** What one run printed, and its exit status. */
    public record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** streamsctl ARGS; one run at a time (System.out is swapped for it). */
    public static synchronized Result run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try (PrintStream po = new PrintStream(o, true, StandardCharsets.UTF_8);
             PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8)) {
            System.setOut(po);
            System.setErr(pe);
            int exit = StreamsCtl.commandLine().execute(args);
            po.flush();
            pe.flush();
            return new Result(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }
}
