package consumer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.streams4j.Connection;
import org.streams4j.ConnldClient;
import org.streams4j.ConnldServer;
import org.streams4j.Platform;

/**
 * A connld server and a client of it in one program, written only against
 * the exported API: prints {@code echo:hello} and where streams4j came from.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        try (ConnldServer server = ConnldServer.bind(path)) {
            Thread echo = new Thread(() -> {
                try (Connection c = server.accept()) {
                    byte[] b = new byte[64];
                    int n = c.read(b, 0, b.length, Duration.ofSeconds(30));
                    c.writeFully(("echo:" + new String(b, 0, n, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
                } catch (Exception e) {
                    e.printStackTrace();
                }
            });
            echo.start();
            try (Connection c = ConnldClient.connect(path)) {
                c.writeFully("hello".getBytes(StandardCharsets.UTF_8));
                byte[] b = new byte[64];
                int got = 0;
                while (got < "echo:hello".length()) {
                    int n = c.read(b, got, b.length - got, Duration.ofSeconds(30));
                    if (n < 0) {
                        break;
                    }
                    got += n;
                }
                System.out.println(new String(b, 0, got, StandardCharsets.UTF_8));
            }
            echo.join();
        }
        System.out.println("consumer module " + Main.class.getModule().getName()
            + ", streams4j module " + ConnldServer.class.getModule().getName()
            + ", backend " + Platform.backend());
        System.out.println("binding " + Platform.nativeBinding());
    }
}
