package org.streams4j.testsupport;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.streams4j.ConnldClient;
import org.streams4j.Connection;

/**
 * Many connld clients in a process of their own (so that a server can hold
 * more connections than one process may have descriptors for both ends):
 *
 * <pre>java -cp CLASSPATH org.streams4j.testsupport.ManyClientsMain PATH N</pre>
 *
 * Connects N clients and keeps them all open; then each sends an
 * 8-character id and reads it back. Prints {@code HELD N} once all are
 * connected, {@code OK N} when every echo was its own id (or {@code BAD ...}
 * and exit 1), then closes them all when stdin ends and exits 0; 3 on an
 * error (printed as {@code ERROR <message>}).
 */
public final class ManyClientsMain {
    private ManyClientsMain() {
    }

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        int n = Integer.parseInt(args[1]);
        List<Connection> clients = new ArrayList<>(n);
        try {
            for (int i = 0; i < n; i++) {
                clients.add(ConnldClient.connect(path));
            }
            System.out.println("HELD " + clients.size());
            System.out.flush();
            for (int i = 0; i < n; i++) {
                clients.get(i).writeFully(String.format("%08d", i).getBytes(StandardCharsets.US_ASCII));
            }
            byte[] b = new byte[8];
            for (int i = 0; i < n; i++) {
                int got = 0;
                while (got < 8) {
                    int r = clients.get(i).read(b, got, 8 - got);
                    if (r < 0) {
                        System.out.println("BAD client " + i + ": end of stream");
                        System.exit(1);
                    }
                    got += r;
                }
                String s = new String(b, StandardCharsets.US_ASCII);
                if (!s.equals(String.format("%08d", i))) {
                    System.out.println("BAD client " + i + " got " + s);
                    System.exit(1);
                }
            }
            System.out.println("OK " + n);
            System.out.flush();
            while (System.in.read() >= 0) {
                // until the parent closes our stdin
            }
        } catch (Exception e) {
            System.out.println("ERROR " + e);
            System.out.flush();
            System.exit(3);
        } finally {
            clients.forEach(Connection::close);
        }
        System.exit(0);
    }
}
