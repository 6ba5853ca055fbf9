package org.streams4j.internal;

import java.lang.reflect.InvocationTargetException;

/**
 * Chooses the {@link HotCalls} binding once: FFM downcalls on JDK 22 and
 * later when this module may use native access and the jar carries the
 * JDK 22 classes ({@code META-INF/versions/22}, a multi-release jar built
 * with a JDK 22+), otherwise JNA.
 *
 * <p>Native access is asked of the module after JNA has loaded the shim. On
 * the class path JNA and streams4j share the unnamed module, and from JDK 24
 * (JEP 472) JNA's {@code System.load} is itself restricted: without
 * {@code --enable-native-access} the JVM prints its warning once, naming
 * JNA, and then grants the unnamed module native access, so FFM is used and
 * adds no warning of its own. On the module path streams4j needs its own
 * {@code --enable-native-access=org.streams4j}.
 *
 * <p>The system property {@code streams4j.binding} overrides: {@code jna}
 * always takes JNA; {@code ffm} takes FFM or, where it cannot be had, JNA
 * with a warning on the {@code org.streams4j} {@link System.Logger};
 * {@code auto} (the default) takes FFM where it can be had, silently.
 */
final class Bindings {
    /** Why the binding in use is the one it is: one line for selftest and logs. */
    static volatile String note = "";

    private Bindings() {
    }

    static HotCalls choose() {
        String want = System.getProperty("streams4j.binding", "auto").trim();
        if (!want.equals("jna") && !want.equals("ffm") && !want.equals("auto")) {
            System.getLogger("org.streams4j").log(System.Logger.Level.WARNING,
                "streams4j.binding=" + want + " is not jna, ffm or auto; auto it is");
            want = "auto";
        }
        if (want.equals("jna")) {
            note = "JNA " + com.sun.jna.Native.VERSION + " (streams4j.binding=jna)";
            return JnaCalls.INSTANCE;
        }
        String why = ffmUnavailable();
        if (why == null) {
            try {
                Class<?> c = Class.forName("org.streams4j.internal.FfmCalls");
                HotCalls h = (HotCalls) c.getDeclaredField("INSTANCE").get(null);
                note = "FFM downcalls (JDK " + Runtime.version().feature() + ")";
                return h;
            } catch (ClassNotFoundException e) {
                why = "this jar has no JDK 22 classes (it was built with a JDK older than 22)";
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                Throwable t = e instanceof ExceptionInInitializerError && e.getCause() != null ? e.getCause() : e;
                why = "FFM could not bind the shim: " + t;
            }
        }
        note = "JNA " + com.sun.jna.Native.VERSION + " (" + why + ")";
        if (want.equals("ffm")) {
            System.getLogger("org.streams4j").log(System.Logger.Level.WARNING,
                "streams4j.binding=ffm: JNA is used, " + why);
        }
        return JnaCalls.INSTANCE;
    }

    /** Why FFM cannot be used here, or null when it may be tried. */
    private static String ffmUnavailable() {
        int feature = Runtime.version().feature();
        if (feature < 22) {
            return "FFM downcalls need JDK 22 or later; this is " + feature;
        }
        if (Shim.loadFailure() != null) {
            return "the shim did not load";
        }
        Module m = Bindings.class.getModule();
        try {
            Object enabled = Module.class.getMethod("isNativeAccessEnabled").invoke(m);
            if (!Boolean.TRUE.equals(enabled)) {
                return "native access is not enabled for " + (m.isNamed() ? m.getName() : "the class path")
                    + ": run java with --enable-native-access=" + (m.isNamed() ? m.getName() : "ALL-UNNAMED");
            }
        } catch (NoSuchMethodException | IllegalAccessException | InvocationTargetException e) {
            return "Module.isNativeAccessEnabled: " + e;
        }
        return null;
    }
}
