package org.streams4j.testsupport;

import java.io.FileOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.streams4j.StreamFd;

/** Tries StreamFd.duplicate on a FileOutputStream's descriptor and prints what happened. */
public final class DuplicateMain {
    private DuplicateMain() {
    }

    public static void main(String[] args) throws Exception {
        Path f = Files.createTempFile("s4j-dup", ".txt");
        try (FileOutputStream out = new FileOutputStream(f.toFile()); StreamFd d = StreamFd.duplicate(out.getFD())) {
            System.out.println("duplicated " + d.isOpen());
        } catch (UnsupportedOperationException e) {
            System.out.println("refused " + e.getMessage());
        } finally {
            Files.delete(f);
        }
    }
}
