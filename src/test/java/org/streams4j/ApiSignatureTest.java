package org.streams4j;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The build's API check: the public API (every public or protected member of
 * the exported package {@code org.streams4j}, as the compiled classes have
 * it) must be exactly the one recorded in
 * {@code src/test/resources/org/streams4j/api.txt}, so that it changes only
 * on purpose. A change fails here with what was added and removed; to make
 * it on purpose, run {@code mvn -B verify -Dstreams4j.api.accept=true} once
 * (which rewrites the file) and commit the file with the change.
 */
class ApiSignatureTest {
    private static final Path RECORDED = Path.of("src", "test", "resources", "org", "streams4j", "api.txt");

    @Test
    void thePublicApiIsTheRecordedOne() throws Exception {
        List<String> now = signature();
        if (Boolean.getBoolean("streams4j.api.accept")) {
            Files.write(RECORDED, now, StandardCharsets.UTF_8);
            return;
        }
        List<String> recorded = Files.readAllLines(RECORDED, StandardCharsets.UTF_8);
        if (!recorded.equals(now)) {
            TreeSet<String> added = new TreeSet<>(now);
            added.removeAll(recorded);
            TreeSet<String> removed = new TreeSet<>(recorded);
            removed.removeAll(now);
            fail("the public API changed (" + RECORDED + "); if on purpose, run mvn -B verify "
                + "-Dstreams4j.api.accept=true and commit the file\n  added:\n    "
                + lines(added) + "\n  removed:\n    " + lines(removed));
        }
    }

    private static String lines(TreeSet<String> s) {
        return s.isEmpty() ? "(nothing)" : String.join("\n    ", s);
    }

    /** One line per public type and member, sorted. */
    static List<String> signature() throws IOException, URISyntaxException, ClassNotFoundException {
        Path classes = Path.of(StreamFd.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .resolve("org").resolve("streams4j");
        List<String> names;
        try (Stream<Path> s = Files.list(classes)) {
            names = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".class"))
                .map(n -> "org.streams4j." + n.substring(0, n.length() - ".class".length()))
                .collect(Collectors.toList());
        }
        TreeSet<String> lines = new TreeSet<>();
        for (String n : names) {
            Class<?> c = Class.forName(n, false, ApiSignatureTest.class.getClassLoader());
            if (!visible(c)) {
                continue;
            }
            String type = c.getName();
            lines.add(type + " : " + Modifier.toString(c.getModifiers() & ~Modifier.INTERFACE)
                + " " + kind(c) + supertypes(c));
            for (Field f : c.getDeclaredFields()) {
                if (shown(f.getModifiers()) && !f.isSynthetic()) {
                    lines.add(type + " | " + f.toGenericString());
                }
            }
            for (Constructor<?> k : c.getDeclaredConstructors()) {
                if (shown(k.getModifiers()) && !k.isSynthetic()) {
                    lines.add(type + " | " + withThrows(k));
                }
            }
            for (Method m : c.getDeclaredMethods()) {
                if (shown(m.getModifiers()) && !m.isSynthetic() && !m.isBridge()) {
                    lines.add(type + " | " + withThrows(m));
                }
            }
        }
        return new ArrayList<>(lines);
    }

    private static boolean visible(Class<?> c) {
        if (c.isAnonymousClass() || c.isLocalClass() || c.isSynthetic()) {
            return false;
        }
        for (Class<?> k = c; k != null; k = k.getEnclosingClass()) {
            if (!Modifier.isPublic(k.getModifiers())) {
                return false;
            }
        }
        return true;
    }

    private static boolean shown(int modifiers) {
        return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
    }

    private static String kind(Class<?> c) {
        return c.isAnnotation() ? "@interface" : c.isInterface() ? "interface" : c.isEnum() ? "enum"
            : c.isRecord() ? "record" : "class";
    }

    private static String supertypes(Class<?> c) {
        StringBuilder b = new StringBuilder();
        if (c.getGenericSuperclass() != null && c.getSuperclass() != Object.class && !c.isEnum() && !c.isRecord()) {
            b.append(" extends ").append(c.getGenericSuperclass().getTypeName());
        }
        String ifaces = Arrays.stream(c.getGenericInterfaces()).map(t -> t.getTypeName()).sorted()
            .collect(Collectors.joining(", "));
        if (!ifaces.isEmpty()) {
            b.append(c.isInterface() ? " extends " : " implements ").append(ifaces);
        }
        return b.toString();
    }

    /** toGenericString, whose checked exceptions are part of the contract, in a stable order. */
    private static String withThrows(Executable e) {
        String s = e.toGenericString();
        int t = s.indexOf(" throws ");
        if (t < 0) {
            return s;
        }
        String sorted = Arrays.stream(s.substring(t + " throws ".length()).split(","))
            .map(String::trim).sorted().collect(Collectors.joining(","));
        return s.substring(0, t) + " throws " + sorted;
    }
}
