package org.streams4j.testsupport;

import java.io.FileDescriptor;
import java.nio.file.Path;
import org.streams4j.ConnldClient;
import org.streams4j.Connection;
import org.streams4j.Platform;
import org.streams4j.StreamFd;
import org.streams4j.StreamsException;

/**
 * A connld client in a process of its own, so that a server can check the
 * pid it reports for the client, or whose ids come with the descriptors it
 * passes:
 *
 * <pre>java -cp CLASSPATH org.streams4j.testsupport.ConnldClientMain PATH TOKEN
 * java -cp CLASSPATH org.streams4j.testsupport.ConnldClientMain PATH --pass-stdin COUNT</pre>
 *
 * Prints {@code PID <its pid>} and connects. With TOKEN: sends it as one
 * line, prints {@code ECHO <the line that came back>}, and exits 0 when the
 * line was TOKEN, 1 when it was not. With {@code --pass-stdin}: passes its
 * standard input's file COUNT times, prints {@code UID <its effective uid>}
 * and {@code SENT COUNT}, waits for the server to close the connection and
 * exits 0. Exits 3 on an error (printed as {@code ERROR <message>}, and for
 * a StreamsException first {@code FAILED <operation> <errno name> <target>}).
 */
public final class ConnldClientMain {
    private ConnldClientMain() {
    }

    public static void main(String[] args) {
        boolean pass = args.length == 3 && args[1].equals("--pass-stdin");
        if (args.length != 2 && !pass) {
            System.err.println("usage: ConnldClientMain PATH TOKEN | PATH --pass-stdin COUNT");
            System.exit(2);
        }
        System.out.println("PID " + ProcessHandle.current().pid());
        try (Connection c = ConnldClient.connect(Path.of(args[0]))) {
            if (pass) {
                passStdin(c, Integer.parseInt(args[2]));
                System.exit(0);
            }
            ConnldEchoServerMain.writeLine(c, args[1]);
            String back = ConnldEchoServerMain.readLine(c);
            System.out.println("ECHO " + back);
            System.out.flush();
            System.exit(args[1].equals(back) ? 0 : 1);
        } catch (StreamsException e) {
            System.out.println("FAILED " + e.operation() + " " + e.errnoName() + " " + e.target());
            System.out.println("ERROR " + e.getMessage());
            System.out.flush();
            System.exit(3);
        } catch (Exception e) {
            System.out.println("ERROR " + e.getMessage());
            System.out.flush();
            System.exit(3);
        }
    }

    private static void passStdin(Connection c, int count) throws Exception {
        try (StreamFd in = StreamFd.duplicate(FileDescriptor.in)) {
            for (int i = 0; i < count; i++) {
                c.sendFd(in);
            }
        }
        System.out.println("UID " + Platform.euid());
        System.out.println("SENT " + count);
        System.out.flush();
        c.read(new byte[1]);    // until the server is done with the descriptors
    }
}
