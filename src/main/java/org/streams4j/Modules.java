package org.streams4j;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.streams4j.internal.Shim;
import org.streams4j.internal.StreamsShim;

/**
 * The STREAMS module stack of one descriptor: {@code isastream}, {@code
 * I_PUSH}, {@code I_POP}, {@code I_LOOK}, {@code I_FIND}, {@code I_LIST}.
 * Each is a quick use (the ioctl answers at once), so a close meanwhile
 * waits for it and it never acts on the close marker. Off STREAMS every one
 * but {@code isStream} throws {@link UnsupportedPlatformException}, after
 * checking that the descriptor is open.
 */
final class Modules {
    private final Descriptor d;

    Modules(Descriptor d) {
        this.d = d;
    }

    boolean isStream() throws StreamsException {
        if (!Platform.supportsModules()) {
            d.call("isastream", Shim::s4j_file_type);
            return false;
        }
        return d.call("isastream", StreamsShim::s4j_isastream) == 1;
    }

    void push(String module) throws StreamsException {
        checkName("push", module);
        require("push");
        d.call("push", n -> StreamsShim.s4j_push(n, module));
    }

    void pop() throws StreamsException {
        require("pop");
        d.call("pop", StreamsShim::s4j_pop);
    }

    String look() throws StreamsException {
        require("look");
        byte[] name = new byte[Shim.MODNAME_SIZE];
        int r = d.useQuick("look", n -> StreamsShim.s4j_look(n, name, name.length));
        if (r == -Errno.EINVAL) {
            return null;    // no module pushed
        }
        if (r < 0) {
            throw d.failure("look", -r);
        }
        return cString(name, 0, name.length);
    }

    boolean find(String module) throws StreamsException {
        checkName("find", module);
        require("find");
        return d.call("find", n -> StreamsShim.s4j_find(n, module)) == 1;
    }

    List<String> list() throws StreamsException {
        require("list");
        int count = d.call("list", n -> StreamsShim.s4j_list(n, null, 0));
        if (count <= 0) {
            return List.of();
        }
        byte[] names = new byte[count * Shim.MODNAME_SIZE];
        int got = d.call("list", n -> StreamsShim.s4j_list(n, names, count));
        List<String> out = new ArrayList<>(got);
        for (int i = 0; i < got && i < count; i++) {
            out.add(cString(names, i * Shim.MODNAME_SIZE, Shim.MODNAME_SIZE));
        }
        return Collections.unmodifiableList(out);
    }

    private void require(String op) throws StreamsException {
        if (!Platform.supportsModules()) {
            d.useQuick(op, n -> 0);     // a closed descriptor says so first
            throw new UnsupportedPlatformException(op, d.target());
        }
    }

    private void checkName(String op, String module) throws StreamsException {
        if (module == null || module.isEmpty() || module.length() > Shim.MODNAME_SIZE - 1
            || module.indexOf('\0') >= 0 || !StandardCharsets.US_ASCII.newEncoder().canEncode(module)) {
            throw new StreamsException(op, d.target(), Errno.EINVAL,
                "module name must be 1 to 8 ASCII characters: \"" + module + "\"");
        }
    }

    private static String cString(byte[] b, int off, int max) {
        int n = 0;
        while (n < max && b[off + n] != 0) {
            n++;
        }
        return new String(b, off, n, StandardCharsets.US_ASCII);
    }
}
