package org.streams4j.cli;

import static org.streams4j.cli.SelftestChecks.IO_TIMEOUT;

import java.io.IOException;
import org.streams4j.ConnldServer;
import org.streams4j.StreamFd;
import org.streams4j.StreamsException;

/** What the selftest's checks share: a failed expectation, exact reads, a server served in the background. */
final class CheckSupport {
    private CheckSupport() {
    }


    static void expect(boolean ok, String what) {
        if (!ok) {
            throw new Cli.Failure(what);
        }
    }

    static void closeNow(java.io.Closeable c) throws IOException {
        c.close();
    }

    static byte[] readExactly(StreamFd fd, int len) throws StreamsException {
        byte[] b = new byte[len];
        int got = 0;
        while (got < len) {
            expect(fd.awaitReadable(IO_TIMEOUT), "read " + got + " of " + len + " bytes, then nothing for "
                + IO_TIMEOUT.toSeconds() + "s");
            int n = fd.read(b, got, len - got);
            expect(n > 0, "end of file after " + got + " of " + len + " bytes");
            got += n;
        }
        return b;
    }

    static Thread serveInBackground(ConnldServer server, ConnldServer.Handler handler) {
        return serveInBackground(server, "serve", () -> server.serve(handler));
    }

    /** How a server serves: serve or serveEvents with its handler. */
    @FunctionalInterface
    interface ServeLoop {
        void run() throws StreamsException;
    }

    /** Runs {@code loop} on a daemon thread; a failure while the server is open is reported. */
    static Thread serveInBackground(ConnldServer server, String what, ServeLoop loop) {
        Thread t = Cli.daemons("selftest-" + what).newThread(() -> {
            try {
                loop.run();
            } catch (StreamsException e) {
                if (server.isOpen()) {
                    Cli.error("selftest: " + what + " " + server.path() + ": " + e.getMessage());
                }
            }
        });
        t.start();
        return t;
    }
}
