package org.streams4j.testsupport;

import java.nio.file.Path;
import org.streams4j.ConnldClient;
import org.streams4j.Connection;
import org.streams4j.StreamsException;

/**
 * A connld client in a process of its own, so that a server can check the
 * pid it reports for the client:
 *
 * <pre>java -cp CLASSPATH org.streams4j.testsupport.ConnldClientMain PATH TOKEN</pre>
 *
 * Connects, sends TOKEN as one line, prints {@code PID <its pid>} and
 * {@code ECHO <the line that came back>}, and exits 0 when the line was TOKEN,
 * 1 when it was not, 3 on an error (printed as {@code ERROR <message>}, and for
 * a StreamsException first {@code FAILED <operation> <errno name> <target>}).
 */
public final class ConnldClientMain {
    private ConnldClientMain() {
    }

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: ConnldClientMain PATH TOKEN");
            System.exit(2);
        }
        System.out.println("PID " + ProcessHandle.current().pid());
        try (Connection c = ConnldClient.connect(Path.of(args[0]))) {
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
}
