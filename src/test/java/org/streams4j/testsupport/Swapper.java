package org.streams4j.testsupport;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A hostile local user (SecurityTest): in a directory it may write, swaps
 * the server's path, and every directory the server makes there, for
 * symbolic links to a victim file, as fast as it can, until killed.
 * Usage: Swapper DIR NAME VICTIM. Prints "ready" once it runs.
 */
public final class Swapper {
    private Swapper() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        String name = args[1];
        Path victim = Path.of(args[2]);
        Path target = dir.resolve(name);
        long n = 0;
        System.out.println("ready");
        System.out.flush();
        while (true) {
            n++;
            // The path itself: a link to the victim renamed over the server's
            // socket whenever one is there, and taken away again so that the
            // next bind gets as far as it can.
            if (Files.isSymbolicLink(target)) {
                try {
                    Files.deleteIfExists(target);
                } catch (IOException e) {
                    // lost a race
                }
            } else if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                swapIn(dir.resolve(".evil" + n), target, victim);
            }
            // Every private directory the server makes beside it: moved away and
            // replaced by one of ours holding a link named like its socket.
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, ".s4j*")) {
                for (Path p : s) {
                    try {
                        Path away = dir.resolve(".away" + n);
                        Files.move(p, away, StandardCopyOption.ATOMIC_MOVE);
                        Files.createDirectory(p);
                        Files.createSymbolicLink(p.resolve("s"), victim);
                    } catch (IOException | RuntimeException e) {
                        // lost that race: try the next
                    }
                }
            } catch (IOException | RuntimeException e) {
                // the directory changed while listed
            }
        }
    }

    private static void swapIn(Path tmp, Path target, Path victim) {
        try {
            Files.createSymbolicLink(tmp, victim);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // nothing to clean
            }
        }
    }
}
