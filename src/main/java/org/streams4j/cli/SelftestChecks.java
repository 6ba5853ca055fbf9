package org.streams4j.cli;

import static org.streams4j.cli.CheckSupport.closeNow;
import static org.streams4j.cli.CheckSupport.expect;
import static org.streams4j.cli.CheckSupport.readExactly;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.streams4j.Backend;
import org.streams4j.Errno;
import org.streams4j.MessagePriority;
import org.streams4j.Platform;
import org.streams4j.ReceivedFd;
import org.streams4j.StreamFd;
import org.streams4j.StreamMessage;
import org.streams4j.StreamMessages;
import org.streams4j.StreamPipe;
import org.streams4j.Streams;
import org.streams4j.StreamsException;
import org.streams4j.UnsupportedPlatformException;

/**
 * The checks of {@code streamsctl selftest}, apart from the command that
 * runs them and prints the table or the JSON: each returns what it saw and
 * throws when the contract is broken, or {@link Skip} when it does not apply
 * to this host. {@code SelftestChecksTest} runs the same checks under JUnit.
 */
final class SelftestChecks {
    static final Duration IO_TIMEOUT = Duration.ofSeconds(5);
    static final int EVENT_CLIENTS = 200;

    private final Path dir;
    private final int clients;

    /** A check's outcome when it does not apply to this host. */
    static final class Skip extends Exception {
        private static final long serialVersionUID = 1L;

        Skip(String why) {
            super(why);
        }
    }

    /** A check: returns what it saw, throws when the contract is broken. */
    @FunctionalInterface
    interface Check {
        String run() throws Exception;
    }

    /** A check and the name its row shows. */
    record Named(String name, Check check) {
    }

    /**
     * @param dir an empty directory the checks may use (short: AF_UNIX paths are)
     * @param clients concurrent clients for the connld check
     */
    SelftestChecks(Path dir, int clients) {
        this.dir = dir;
        this.clients = clients;
    }

    /** Every check, in the order the table shows them, for this host's backend. */
    List<Named> all() {
        boolean streams = Platform.backend() == Backend.STREAMS;
        ServerChecks server = new ServerChecks(dir, clients);
        List<Named> all = new ArrayList<>(List.of(
            new Named("pipe round trip", this::pipeRoundTrip),
            new Named("descriptor passing with uid/gid", this::descriptorPassing),
            new Named("data and descriptors keep order", this::order),
            new Named("messages keep their boundaries", this::messageBoundaries),
            new Named("connld server, " + clients + " concurrent clients", server::concurrentClients),
            new Named("event loops, " + EVENT_CLIENTS + " clients", server::eventLoops),
            new Named("peer credentials", server::peerCredentials),
            new Named("attach point permission bits", server::permissions),
            new Named("allow list refuses other uids", server::allowList),
            new Named("close removes the path", server::closeRemovesPath),
            new Named("fdetach", server::fdetach),
            new Named("error: plain file", server::plainFile),
            new Named("error: missing path", server::missingPath),
            new Named("error: busy path", server::busyPath),
            new Named("error: module name over 8 chars", this::longModuleName)));
        if (streams) {
            all.add(new Named("push, look, find, list, pop", this::moduleOps));
            all.add(new Named("connld pushed twice: ENXIO", this::connldTwice));
            all.add(new Named("message parts, bands, high priority", this::messageParts));
        } else {
            all.add(new Named("module ops refused (no STREAMS)", this::modulesUnsupported));
            all.add(new Named("connld pushed twice: ENXIO", () -> {
                throw new Skip("STREAMS only; the portable backend has no modules");
            }));
            all.add(new Named("message parts, bands, high priority", () -> {
                throw new Skip("STREAMS only; SOCK_SEQPACKET has data-only messages of one priority");
            }));
        }
        return all;
    }


    private String pipeRoundTrip() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            byte[] ping = "ping from the first end".getBytes(StandardCharsets.US_ASCII);
            byte[] pong = "pong from the second".getBytes(StandardCharsets.US_ASCII);
            p.first().writeFully(ping);
            expect(Arrays.equals(ping, readExactly(p.second(), ping.length)), "second end read other bytes");
            p.second().writeFully(pong);
            expect(Arrays.equals(pong, readExactly(p.first(), pong.length)), "first end read other bytes");
            p.first().close();
            expect(p.second().awaitReadable(IO_TIMEOUT), "no end of file after the other end closed");
            expect(p.second().read(new byte[8]) == -1, "data after the other end closed");
            return ping.length + " and " + pong.length + " bytes both ways, then end of file";
        }
    }

    private String descriptorPassing() throws Exception {
        Path file = dir.resolve("passed.txt");
        byte[] content = "a file passed over a stream\n".getBytes(StandardCharsets.US_ASCII);
        Files.write(file, content);
        try (StreamPipe p = StreamPipe.open(); StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
            p.first().sendFd(f);
            expect(p.second().awaitReadable(IO_TIMEOUT), "nothing arrived");
            try (ReceivedFd got = p.second().receiveFd()) {
                expect(got.uid() == Platform.euid() && got.gid() == Platform.egid(),
                    "sender uid=" + got.uid() + " gid=" + got.gid() + ", expected uid=" + Platform.euid()
                        + " gid=" + Platform.egid());
                byte[] read = got.inputStream().readNBytes(content.length + 1);
                expect(Arrays.equals(content, read), "read " + read.length + " other bytes from the received file");
                return "sender uid=" + got.uid() + " gid=" + got.gid() + ", file read through the received fd";
            }
        }
    }

    /** One write is one message, a receive takes one, and a larger one comes in parts with nothing lost. */
    private String messageBoundaries() throws Exception {
        try (StreamPipe p = StreamPipe.openMessages()) {
            StreamMessages out = p.first().messages();
            StreamMessages in = p.second().messages();
            // Two plain writes, each one message (on STREAMS the pipe left
            // fifofs' fast mode, where they would join), then a send.
            p.first().writeFully("one".getBytes(StandardCharsets.US_ASCII));
            p.first().writeFully("two two".getBytes(StandardCharsets.US_ASCII));
            out.send("0123456789".getBytes(StandardCharsets.US_ASCII));
            StreamMessage m = new StreamMessage(8);
            for (String want : new String[] {"one", "two two", "01234567"}) {
                expect(in.receive(m, IO_TIMEOUT), "no message came");
                String got = StandardCharsets.US_ASCII.decode(m.data()).toString();
                expect(want.equals(got), "received \"" + got + "\", expected \"" + want + "\"");
            }
            expect(m.moreData(), "a message larger than the room did not say MOREDATA");
            expect(in.receive(m, IO_TIMEOUT) && "89".equals(StandardCharsets.US_ASCII.decode(m.data()).toString())
                && !m.moreData(), "the rest of the large message was not the next receive");
            return "2 writes and a send, 3 messages, the third in two parts";
        }
    }

    /** putmsg with a control part, a band and high priority; getmsg takes them in priority order. */
    private String messageParts() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamMessages out = p.first().messages();
            StreamMessages in = p.second().messages();
            java.nio.ByteBuffer ctl = java.nio.ByteBuffer.wrap("ctl".getBytes(StandardCharsets.US_ASCII));
            out.send(null, java.nio.ByteBuffer.wrap(new byte[] {0}));
            out.send(null, java.nio.ByteBuffer.wrap(new byte[] {2}), MessagePriority.band(2));
            out.send(ctl, null, MessagePriority.HIGH);
            StreamMessage m = new StreamMessage(8, 8);
            expect(in.receive(m, IO_TIMEOUT) && m.isHighPriority() && m.hasControl() && !m.hasData(),
                "the high-priority message did not come first: " + m);
            expect(in.receive(m, IO_TIMEOUT) && m.band() == 2, "the band 2 message did not come second: " + m);
            expect(in.receive(m, IO_TIMEOUT) && m.band() == 0, "the band 0 message did not come last: " + m);
            return "high priority, band 2, band 0, in that order";
        }
    }

    private String order() throws Exception {
        Path file = dir.resolve("order.txt");
        Files.write(file, new byte[] {'x'});
        try (StreamPipe p = StreamPipe.open(); StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
            p.first().writeFully("data".getBytes(StandardCharsets.US_ASCII));
            p.first().sendFd(f);
            expect(p.second().awaitReadable(IO_TIMEOUT), "nothing arrived");
            try {
                closeNow(p.second().receiveFd());
                throw new IllegalStateException("receiveFd took a descriptor while data was next");
            } catch (StreamsException e) {
                expect(e.errno() == Errno.EBADMSG, "receiveFd before the data: " + e.getMessage()
                    + ", expected EBADMSG");
            }
            byte[] data = readExactly(p.second(), 4);
            expect("data".equals(new String(data, StandardCharsets.US_ASCII)), "data lost or changed");
            try (ReceivedFd got = p.second().receiveFd()) {
                expect(got.fd().isOpen(), "no descriptor after the data");
            }
            return "data, then descriptor: receiveFd EBADMSG first, nothing lost";
        }
    }

    private String longModuleName() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            try {
                p.first().push("ninechars");
                throw new IllegalStateException("pushed a module with a 9-character name");
            } catch (StreamsException e) {
                expect(e.errno() == Errno.EINVAL, "push ninechars: " + e.getMessage());
                return "push ninechars: " + e.errnoName();
            }
        }
    }

    private String modulesUnsupported() throws Exception {
        List<String> refused = new ArrayList<>();
        try (StreamPipe p = StreamPipe.open()) {
            StreamFd fd = p.first();
            Check[] ops = {
                () -> {
                    fd.push("connld");
                    return "push";
                },
                () -> {
                    fd.pop();
                    return "pop";
                },
                () -> String.valueOf(fd.list()),
                () -> String.valueOf(fd.look()),
                () -> String.valueOf(fd.find("connld")),
            };
            String[] names = {"push", "pop", "list", "look", "find"};
            for (int i = 0; i < ops.length; i++) {
                try {
                    ops[i].run();
                    throw new IllegalStateException(names[i] + " did not fail on the portable backend");
                } catch (UnsupportedPlatformException e) {
                    refused.add(names[i]);
                }
            }
            expect(!fd.isStream(), "isStream() true on the portable backend");
            try {
                Streams.fdetach(dir.resolve("x"));
                throw new IllegalStateException("fdetach did not fail on the portable backend");
            } catch (UnsupportedPlatformException e) {
                refused.add("fdetach");
            }
        }
        return String.join(", ", refused) + ": EOPNOTSUPP (not supported on this platform)";
    }

    private String moduleOps() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamFd fd = p.second();
            expect(fd.isStream(), "a pipe end is not a stream");
            Path file = dir.resolve("regular");
            Files.write(file, new byte[0]);
            try (StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
                expect(!f.isStream(), "a regular file is a stream");
            }
            List<String> before = fd.list();
            fd.push("connld");
            expect("connld".equals(fd.look()), "I_LOOK after I_PUSH: " + fd.look());
            expect(fd.find("connld"), "I_FIND does not see connld");
            List<String> after = fd.list();
            expect(after.size() == before.size() + 1 && "connld".equals(after.get(0)),
                "I_LIST before " + before + ", after push " + after);
            fd.pop();
            expect(fd.look() == null, "I_LOOK after I_POP: " + fd.look());
            try {
                fd.pop();
                throw new IllegalStateException("I_POP with no module succeeded");
            } catch (StreamsException e) {
                expect(e.errno() == Errno.EINVAL, "I_POP with no module: " + e.getMessage());
            }
            return "pipe " + before + " -> push connld " + after + " -> pop; isastream pipe yes, file no";
        }
    }

    private String connldTwice() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.second().push("connld");
            try {
                p.second().push("connld");
                throw new IllegalStateException("connld pushed twice");
            } catch (StreamsException e) {
                expect(e.errno() == Errno.ENXIO, "second push: " + e.getMessage() + ", expected ENXIO");
                return e.getMessage();
            }
        }
    }
}
