package org.streams4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Draws {@code docs/bench/scale.svg} from a results.json: the median sweep
 * time of the event-loop rows ({@code scale_N_sweep}) against N, one line per
 * column. A few lines of SVG; no plotting library.
 * <pre>
 *   ScaleChart results.json scale.svg
 * </pre>
 */
public final class ScaleChart {
    private static final Pattern ROW = Pattern.compile("\\{\"name\": \"scale_(\\d+)_sweep\"[^\\n]*");
    private static final List<String> COLUMNS = List.of("streams4j", "c", "jdk");
    private static final Map<String, String> COLOURS = Map.of("streams4j", "#d62728", "c", "#1f77b4",
        "jdk", "#2ca02c");
    private static final Map<String, String> LABELS = Map.of("streams4j", "streams4j serveEvents",
        "c", "C (same design)", "jdk", "JDK Selector");

    private ScaleChart() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: ScaleChart results.json scale.svg");
            System.exit(2);
        }
        write(Path.of(args[0]), Path.of(args[1]));
    }

    static void write(Path json, Path svg) throws IOException {
        Files.writeString(svg, svg(Files.readString(json)));
    }

    /** connections -> column -> ms, from the rows of results.json. */
    static Map<Integer, Map<String, Double>> points(String json) {
        Map<Integer, Map<String, Double>> points = new TreeMap<>();
        Matcher m = ROW.matcher(json);
        while (m.find()) {
            String row = m.group();
            // The per-round values come after "rounds": only the medians before it.
            String medians = row.substring(0, Math.max(0, row.indexOf("\"rounds\"")));
            Map<String, Double> cols = new TreeMap<>();
            for (String c : COLUMNS) {
                Matcher v = Pattern.compile("\"" + c + "\": ([0-9.Ee+-]+)").matcher(medians);
                if (v.find()) {
                    cols.put(c, Double.parseDouble(v.group(1)));
                }
            }
            points.put(Integer.parseInt(m.group(1)), cols);
        }
        return points;
    }

    static String svg(String json) {
        Map<Integer, Map<String, Double>> points = points(json);
        int w = 640;
        int h = 400;
        int left = 70;
        int right = 190;
        int top = 40;
        int bottom = 60;
        double maxN = points.keySet().stream().mapToInt(Integer::intValue).max().orElse(1);
        double maxMs = points.values().stream().flatMap(c -> c.values().stream())
            .mapToDouble(Double::doubleValue).max().orElse(1);
        double yTop = niceCeiling(maxMs);
        int pw = w - left - right;
        int ph = h - top - bottom;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
            + " viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", w, h, w, h));
        s.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", w, h));
        boolean oneCpu = json.contains("\"scale_pinned\": \"scale_N_sweep:");
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"14\">One sweep (a 64-byte round"
            + " trip on every connection), median ms%s</text>%n", left, oneCpu ? ", one CPU" : ""));
        // axes and grid
        for (int i = 0; i <= 4; i++) {
            double v = yTop * i / 4;
            double y = top + ph - ph * v / yTop;
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>%n",
                left, y, left + pw, y));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                left - 6, y + 4, trim(v)));
        }
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
            left, top + ph, left + pw, top + ph));
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
            left, top, left, top + ph));
        for (int n : points.keySet()) {
            double x = left + pw * n / maxN;
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%,d</text>%n",
                x, top + ph + 18, n));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">connections held"
            + "</text>%n", left + pw / 2, h - 16));
        s.append(String.format(Locale.ROOT, "<text x=\"16\" y=\"%d\" transform=\"rotate(-90 16 %d)\""
            + " text-anchor=\"middle\">ms per sweep</text>%n", top + ph / 2, top + ph / 2));
        int legend = 0;
        for (String c : COLUMNS) {
            List<String> xy = new ArrayList<>();
            for (Map.Entry<Integer, Map<String, Double>> e : points.entrySet()) {
                Double v = e.getValue().get(c);
                if (v != null) {
                    xy.add(String.format(Locale.ROOT, "%.1f,%.1f", left + pw * e.getKey() / maxN,
                        top + ph - ph * v / yTop));
                }
            }
            if (xy.isEmpty()) {
                continue;
            }
            String colour = COLOURS.get(c);
            s.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\""
                + " stroke-width=\"2\"/>%n", String.join(" ", xy), colour));
            for (String p : xy) {
                String[] f = p.split(",");
                s.append(String.format(Locale.ROOT, "<circle cx=\"%s\" cy=\"%s\" r=\"3.5\" fill=\"%s\"/>%n",
                    f[0], f[1], colour));
            }
            int ly = top + 10 + legend++ * 20;
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\""
                + " stroke-width=\"2\"/>%n", left + pw + 14, ly, left + pw + 34, ly, colour));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", left + pw + 40, ly + 4,
                LABELS.get(c)));
        }
        s.append("</svg>\n");
        return s.toString();
    }

    private static double niceCeiling(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(Math.max(v, 1e-9))));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }
}
