package org.streams4j.testsupport;

import java.nio.file.Path;
import org.streams4j.ConnldClient;
import org.streams4j.Connection;
import org.streams4j.StreamFd;

/**
 * A client in a process of its own that passes descriptors, so that a server
 * can check whose ids come with them:
 *
 * <pre>java -cp CLASSPATH org.streams4j.testsupport.FdSenderMain PATH COUNT</pre>
 *
 * Connects, passes its standard input's file COUNT times, prints
 * {@code UID <its effective uid>} and {@code SENT COUNT}, then waits for the
 * server to close the connection; exits 3 on an error ({@code ERROR <message>}).
 */
public final class FdSenderMain {
    private FdSenderMain() {
    }

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: FdSenderMain PATH COUNT");
            System.exit(2);
        }
        int count = Integer.parseInt(args[1]);
        try (Connection c = ConnldClient.connect(Path.of(args[0]));
             StreamFd in = StreamFd.duplicate(java.io.FileDescriptor.in)) {
            for (int i = 0; i < count; i++) {
                c.sendFd(in);
            }
            System.out.println("UID " + org.streams4j.Platform.euid());
            System.out.println("SENT " + count);
            System.out.flush();
            c.read(new byte[1]);    // until the server is done with the descriptors
            System.exit(0);
        } catch (Exception e) {
            System.out.println("ERROR " + e);
            System.out.flush();
            System.exit(3);
        }
    }
}
