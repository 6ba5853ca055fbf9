package org.streams4j.testsupport;

import java.nio.ByteBuffer;
import org.streams4j.Platform;
import org.streams4j.StreamFd;
import org.streams4j.StreamPipe;

/** Prints the binding this JVM chose, then does a round trip and a descriptor pass through it. */
public final class BindingMain {
    private BindingMain() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println(Platform.nativeBinding());
        try (StreamPipe p = StreamPipe.open()) {
            StreamFd a = p.first();
            StreamFd b = p.second();
            ByteBuffer out = ByteBuffer.allocateDirect(5).put(new byte[] {'h', 'e', 'l', 'l', 'o'}).flip();
            ByteBuffer in = ByteBuffer.allocateDirect(5);
            a.write(out);
            b.read(in);
            a.sendFd(b);
            try (StreamFd got = b.receiveFd().fd()) {
                System.out.println(new String(new byte[] {in.get(0), in.get(1), in.get(2), in.get(3), in.get(4)},
                    java.nio.charset.StandardCharsets.US_ASCII) + " " + got.isOpen());
            }
        }
    }
}
