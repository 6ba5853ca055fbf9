package org.streams4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** cli/Json: what --json prints parses back, strictly, to what was written. */
class JsonTest {
    @Test
    void everyAwkwardStringRoundTrips() {
        List<String> strings = new ArrayList<>(List.of("", "plain", "a \"quoted\" word", "back\\slash",
            "/run/x: EBUSY (already attached)", "tab\there", "line\nbreak\r\n", "\b\f\u0000\u001f\u007f",
            "caf\u00e9 \u4e2d \ud83d\ude00", "\u2028\u2029", "lone \ud800 high", "lone \udc00 low", "\udc00\ud800"));
        for (char c = 0; c < 0x20; c++) {
            strings.add("control " + (int) c + ": " + c);
        }
        for (String in : strings) {
            String text = Json.of(in);
            assertEquals(in, StrictJson.parse(text), text);
            for (char c : text.toCharArray()) {
                assertTrue(c >= 0x20 && c != 0x7f, "raw control character in " + text);
                assertFalse(Character.isSurrogate(c) && isLone(text, text.indexOf(c)), "lone surrogate in " + text);
            }
        }
    }

    @Test
    void nestedObjectsKeepTheirOrderAndTypes() {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("check", "pipe round trip");
        row.put("result", "PASS");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("zeta", "first");
        m.put("uid", 0);
        m.put("pid", 4_294_967_296L);
        m.put("ok", true);
        m.put("none", null);
        m.put("checks", List.of(row, row));
        m.put("empty", List.of());
        String text = Json.of(m);
        assertEquals("{\"zeta\":\"first\",\"uid\":0,\"pid\":4294967296,\"ok\":true,\"none\":null,"
            + "\"checks\":[{\"check\":\"pipe round trip\",\"result\":\"PASS\"},"
            + "{\"check\":\"pipe round trip\",\"result\":\"PASS\"}],\"empty\":[]}", text);
        Map<String, Object> back = StrictJson.object(text);
        assertEquals(Arrays.asList("zeta", "uid", "pid", "ok", "none", "checks", "empty"), List.copyOf(back.keySet()));
        assertEquals(4_294_967_296L, back.get("pid"));
        assertEquals(Boolean.TRUE, back.get("ok"));
    }

    @Test
    void rowNamesBecomeKeysAndOtherTypesAreRefused() {
        assertEquals("file_type", Json.key("file type"));
        assertEquals("backend", Json.key("backend"));
        assertThrows(IllegalArgumentException.class, () -> Json.of(new Object()));
        assertThrows(IllegalArgumentException.class, () -> Json.of(1.5));
    }

    private static boolean isLone(String s, int at) {
        char c = s.charAt(at);
        if (Character.isHighSurrogate(c)) {
            return at + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(at + 1));
        }
        return at == 0 || !Character.isHighSurrogate(s.charAt(at - 1));
    }
}
