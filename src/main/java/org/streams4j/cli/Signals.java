package org.streams4j.cli;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * SIGINT, SIGTERM and SIGHUP as a request to stop, so that a server can
 * detach, remove its path and exit 0 instead of dying with 130, 143 or 129
 * (and says that it stops, whichever signal came).
 *
 * <p>Uses {@code sun.misc.Signal} (module jdk.unsupported, in every JDK since
 * 8) through reflection, which keeps the build free of proprietary-API
 * warnings; where it is missing, the server's shutdown hook still cleans up.
 */
final class Signals {
    private Signals() {
    }

    /**
     * Runs {@code action} (on a JVM signal thread) with the signal's name,
     * {@code "SIGTERM"}, when SIGINT, SIGTERM or SIGHUP arrives. A signal that is
     * ignored in this process (SIGINT for a background job of a
     * non-interactive shell) stays ignored.
     *
     * @return the names of the signals that are handled, "SIGINT, SIGTERM or SIGHUP"
     */
    static String onStop(Consumer<String> action) {
        StringBuilder handled = new StringBuilder();
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            Object handler = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handlerType},
                (proxy, m, args) -> dispatch(proxy, m, args, action));
            Method handle = signal.getMethod("handle", signal, handlerType);
            List<String> names = new ArrayList<>();
            for (String name : new String[] {"INT", "TERM", "HUP"}) {
                try {
                    Object old = handle.invoke(null, signal.getConstructor(String.class).newInstance(name), handler);
                    if ("SIG_IGN".equals(String.valueOf(old))) {
                        continue;   // ignored when the JVM started: the JVM leaves it ignored
                    }
                    names.add("SIG" + name);
                } catch (InvocationTargetException e) {
                    // the JVM reserves it (-Xrs) or the platform has none
                }
            }
            for (int i = 0; i < names.size(); i++) {
                handled.append(i == 0 ? "" : i == names.size() - 1 ? " or " : ", ").append(names.get(i));
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // no sun.misc.Signal: the shutdown hook still closes the server
        }
        return handled.toString();
    }

    private static Object dispatch(Object proxy, Method m, Object[] args, Consumer<String> action) {
        switch (m.getName()) {
            case "handle":
                action.accept(String.valueOf(args[0]));
                return null;
            case "hashCode":
                return System.identityHashCode(proxy);
            case "equals":
                return proxy == args[0];
            case "toString":
                return "streamsctl stop handler";
            default:
                return null;
        }
    }
}
