package org.streams4j;

import java.io.FileDescriptor;
import java.lang.reflect.Field;
import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.Method;
import java.nio.channels.Channel;
import java.nio.channels.FileChannel;

/**
 * The descriptor number behind a JDK {@link FileDescriptor} or channel, for
 * {@link StreamFd#duplicate}. The JDK has no public way to ask for it, so
 * this reads what every library that passes JDK descriptors reads (Netty,
 * Hadoop; junixsocket from JNI): {@code FileDescriptor.fd}, a channel's
 * {@code getFDVal()} ({@code sun.nio.ch.SelChImpl}: sockets, server sockets,
 * datagrams, pipes) or {@code FileChannelImpl.fd}. The JVM allows that only
 * where those packages are opened to streams4j ({@code --add-opens}); else the
 * caller gets an {@link UnsupportedOperationException} that names the flag.
 */
final class JdkDescriptors {
    private JdkDescriptors() {
    }

    /** The number, or -1 when the descriptor is closed (the JDK's convention). */
    static int numberOf(FileDescriptor fd) {
        // The three standard ones are 0, 1 and 2 while valid (FileDescriptor's own
        // standardStream): no reflection, so no --add-opens, for a terminal's stdin.
        if (fd.valid() && (fd == FileDescriptor.in || fd == FileDescriptor.out || fd == FileDescriptor.err)) {
            return fd == FileDescriptor.in ? 0 : fd == FileDescriptor.out ? 1 : 2;
        }
        try {
            Field f = FileDescriptor.class.getDeclaredField("fd");
            f.setAccessible(true);
            return f.getInt(fd);
        } catch (InaccessibleObjectException | IllegalAccessException e) {
            throw closedPackage("java.io", "java.io.FileDescriptor");
        } catch (NoSuchFieldException e) {
            throw new UnsupportedOperationException("streams4j: this JDK's FileDescriptor has no fd field", e);
        }
    }

    /** The number of an open channel of the JDK's own (sockets, pipes, files). */
    static int numberOf(Channel ch) {
        if (ch instanceof FileChannel) {
            try {
                Field f = fieldNamed(ch.getClass(), "fd");
                f.setAccessible(true);
                return numberOf((FileDescriptor) f.get(ch));
            } catch (InaccessibleObjectException | IllegalAccessException e) {
                throw closedPackage("sun.nio.ch", ch.getClass().getName());
            }
        }
        Class<?> sel;
        try {
            sel = Class.forName("sun.nio.ch.SelChImpl");
        } catch (ClassNotFoundException e) {
            throw notTheJdks(ch);
        }
        if (!sel.isInstance(ch)) {
            throw notTheJdks(ch);
        }
        try {
            Method m = sel.getMethod("getFDVal");
            m.setAccessible(true);
            return (Integer) m.invoke(ch);
        } catch (InaccessibleObjectException | IllegalAccessException e) {
            throw closedPackage("sun.nio.ch", ch.getClass().getName());
        } catch (ReflectiveOperationException e) {
            throw new UnsupportedOperationException("streams4j: cannot ask " + ch.getClass().getName()
                + " for its descriptor: " + e, e);
        }
    }

    private static Field fieldNamed(Class<?> c, String name) {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            try {
                return k.getDeclaredField(name);
            } catch (NoSuchFieldException e) {
                // its superclass, then
            }
        }
        throw new UnsupportedOperationException("streams4j: " + c.getName() + " has no " + name + " field");
    }

    private static UnsupportedOperationException notTheJdks(Channel ch) {
        return new UnsupportedOperationException("streams4j: " + ch.getClass().getName()
            + " is not one of the JDK's channels (a FileChannel, or a socket, server socket, datagram or pipe channel)");
    }

    private static UnsupportedOperationException closedPackage(String pkg, String what) {
        Module me = JdkDescriptors.class.getModule();
        String to = me.isNamed() ? me.getName() : "ALL-UNNAMED";
        return new UnsupportedOperationException("streams4j: the JDK does not say which descriptor a " + what
            + " holds unless java.base opens " + pkg + " to streams4j: run the JVM with --add-opens java.base/"
            + pkg + "=" + to);
    }
}
