package org.streams4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.Connection;
import org.streams4j.ConnldClient;
import org.streams4j.testsupport.TimeScale;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;

/**
 * The distribution's own files (src/dist): the POSIX sh launcher
 * {@code bin/streamsctl} run the way a sysadmin runs it (through a symbolic
 * link, from a tree laid out like the tarball), and the SMF manifest
 * {@code share/smf/streams4j-serve.xml}: its structure against the content
 * models of illumos' service_bundle DTD, and its start method run for real.
 * CI's OmniOS job also runs {@code svccfg validate} on the manifest.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DistributionTest {
    private static final Path ROOT = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
        .toAbsolutePath();
    private static final Path LAUNCHER = ROOT.resolve("src/dist/bin/streamsctl");
    private static final Path MANIFEST = ROOT.resolve("src/dist/share/smf/streams4j-serve.xml");
    private static final String CLASS_PATH =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    private static final String INSTALLED = "/opt/streams4j/bin/streamsctl";

    @TempDir
    Path tmp;

    private static Document manifest;

    @BeforeAll
    static void readManifest() throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(false);
        f.setValidating(false);
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        manifest = f.newDocumentBuilder().parse(new InputSource(MANIFEST.toUri().toString()));
    }

    // ---- the SMF manifest -------------------------------------------------------------

    /**
     * Content models and required attributes of the elements the manifest
     * uses, from illumos' usr/src/cmd/svc/dtd/service_bundle.dtd.1 (each
     * child list written as a regular expression over the child names).
     */
    private static final Map<String, String> CONTENT = Map.ofEntries(
        Map.entry("service_bundle", "(service )*"),
        Map.entry("service", "(create_default_instance )?(single_instance )?(restarter )?(dependency )*"
            + "(dependent )*(method_context )?(exec_method )*(property_group )*(instance )*(stability )?(template )?"),
        Map.entry("instance", "(restarter )?(dependency )*(dependent )*(method_context )?(exec_method )*"
            + "(property_group )*(template )?"),
        Map.entry("dependency", "(service_fmri )*(stability )?((propval |property ))*"),
        Map.entry("method_context", "((method_profile |method_credential ))?(method_environment )?"),
        Map.entry("method_environment", "(envvar )+"),
        Map.entry("exec_method", "(method_context )?(stability )?((propval |property ))*"),
        Map.entry("property_group", "(stability )?((propval |property ))*"),
        Map.entry("property", "((count_list |integer_list |astring_list |ustring_list |boolean_list |fmri_list ))?"),
        Map.entry("astring_list", "(value_node )+"),
        Map.entry("template", "common_name (description )?(documentation )?(pg_pattern )*"),
        Map.entry("common_name", "(loctext )+"),
        Map.entry("description", "(loctext )+"),
        Map.entry("documentation", "((doc_link |manpage ))*"),
        Map.entry("pg_pattern", "(common_name )?(description )?(prop_pattern )*"),
        Map.entry("prop_pattern", "(common_name )?(description )?(units )?(visibility )?(cardinality )?"
            + "(internal_separators )?(values )?(constraints )?(choices )?"),
        Map.entry("loctext", ""),
        Map.entry("service_fmri", ""), Map.entry("method_credential", ""), Map.entry("envvar", ""),
        Map.entry("propval", ""), Map.entry("value_node", ""), Map.entry("stability", ""),
        Map.entry("manpage", ""));

    private static final Map<String, String> REQUIRED = Map.ofEntries(
        Map.entry("service_bundle", "type name"), Map.entry("service", "name version type"),
        Map.entry("instance", "name enabled"), Map.entry("dependency", "name grouping restart_on type"),
        Map.entry("service_fmri", "value"), Map.entry("method_credential", "user"),
        Map.entry("envvar", "name value"), Map.entry("exec_method", "type name exec timeout_seconds"),
        Map.entry("property_group", "name type"), Map.entry("propval", "name type value"),
        Map.entry("property", "name type"), Map.entry("value_node", "value"), Map.entry("stability", "value"),
        Map.entry("loctext", "xml:lang"), Map.entry("manpage", "title section"), Map.entry("prop_pattern", "name"));

    private static final Map<String, String> CHOICES = Map.of(
        "service.type", "service|restarter|milestone", "instance.enabled", "true|false",
        "dependency.grouping", "require_all|require_any|exclude_all|optional_all",
        "dependency.restart_on", "error|restart|refresh|none", "exec_method.type", "method|monitor",
        "stability.value", "Standard|Stable|Evolving|Unstable|External|Obsolete",
        "propval.type", "count|integer|astring|ustring|boolean|fmri", "property.type",
        "count|integer|astring|ustring|boolean|fmri");

    @Test
    void smfManifestFollowsTheServiceBundleDtd() {
        assertEquals("service_bundle", manifest.getDocumentElement().getTagName());
        assertEquals("service_bundle", manifest.getDoctype().getName());
        assertEquals("/usr/share/lib/xml/dtd/service_bundle.dtd.1", manifest.getDoctype().getSystemId());
        List<String> problems = new ArrayList<>();
        check(manifest.getDocumentElement(), problems);
        assertEquals(List.of(), problems);
    }

    private static void check(Element e, List<String> problems) {
        String name = e.getTagName();
        String model = CONTENT.get(name);
        if (model == null) {
            problems.add("<" + name + "> is not an element this test knows from the DTD");
            return;
        }
        StringBuilder kids = new StringBuilder();
        for (Element c : children(e)) {
            kids.append(c.getTagName()).append(' ');
        }
        if (!kids.toString().matches(model)) {
            problems.add("<" + name + "> holds " + kids.toString().strip() + "; the DTD allows " + model);
        }
        for (String a : REQUIRED.getOrDefault(name, "").split(" ")) {
            if (!a.isEmpty() && !e.hasAttribute(a)) {
                problems.add("<" + name + "> lacks " + a);
            }
        }
        CHOICES.forEach((k, allowed) -> {
            String[] ea = k.split("\\.");
            if (ea[0].equals(name) && e.hasAttribute(ea[1]) && !e.getAttribute(ea[1]).matches(allowed)) {
                problems.add("<" + name + " " + ea[1] + "=\"" + e.getAttribute(ea[1]) + "\"> is not one of " + allowed);
            }
        });
        for (Element c : children(e)) {
            check(c, problems);
        }
    }

    @Test
    void smfManifestRunsServeAsANonRootUserAndStopsItWithSigterm() {
        Element service = only(manifest.getDocumentElement(), "service");
        assertEquals("application/streams4j/serve", service.getAttribute("name"));
        assertEquals("manifest", manifest.getDocumentElement().getAttribute("type"));
        Element start = method(service, "start");
        assertTrue(start.getAttribute("exec").startsWith(INSTALLED + " serve %{streams4j/path} "),
            start.getAttribute("exec"));
        // stop: svc.startd's :kill sends SIGTERM (smf_method(7)); no other signal named
        assertEquals(":kill", method(service, "stop").getAttribute("exec"));
        // the server is the service's process: it must stay in the foreground
        assertEquals("child", propval(only(service, "property_group", "startd"), "duration"));
        Element cred = (Element) service.getElementsByTagName("method_credential").item(0);
        assertTrue(cred != null && !cred.getAttribute("user").isEmpty(), "no method_credential");
        assertNotEquals("root", cred.getAttribute("user"));
        assertNotEquals("0", cred.getAttribute("user"));
        // every %{streams4j/...} of the start method is set for every instance (instance or service)
        Matcher m = Pattern.compile("%\\{streams4j/([a-z_]+)\\}").matcher(start.getAttribute("exec"));
        List<String> used = new ArrayList<>();
        while (m.find()) {
            used.add(m.group(1));
        }
        assertEquals(List.of("path", "mode", "max_clients", "options"), used);
        List<Element> instances = children(service).stream().filter(c -> c.getTagName().equals("instance"))
            .collect(Collectors.toList());
        assertFalse(instances.isEmpty(), "no instance");
        for (Element inst : instances) {
            Map<String, List<String>> props = composed(service, inst);
            assertEquals(used, used.stream().filter(props::containsKey).collect(Collectors.toList()),
                "instance " + inst.getAttribute("name") + " lacks some of " + used + ": " + props);
            assertEquals("false", inst.getAttribute("enabled"), "an instance enabled on import");
        }
    }

    /** The start method, expanded as svc.startd would for instance echo, really serves and stops on SIGTERM. */
    @Test
    void smfStartMethodServesThePathAndSigtermRemovesIt() throws Exception {
        Element service = only(manifest.getDocumentElement(), "service");
        Map<String, List<String>> props = composed(service, only(service, "instance", "echo"));
        Path path = tmp.resolve("echo");
        props.put("path", List.of(path.toString()));
        List<String> argv = new ArrayList<>();
        for (String word : method(service, "start").getAttribute("exec").split(" ")) {
            Matcher m = Pattern.compile("%\\{streams4j/([a-z_]+)\\}").matcher(word);
            if (m.matches()) {
                argv.addAll(props.get(m.group(1)));   // one word per value
            } else {
                argv.add(word);
            }
        }
        assertEquals(INSTALLED, argv.get(0));
        argv.set(0, installedLayout().resolve("bin/streamsctl").toString());
        Path log = tmp.resolve("serve.log");
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile());
        environment(pb);
        Process p = pb.start();
        try {
            awaitLine(p, log, "streamsctl: serving " + path);
            assertEquals("rw-rw-rw-", PosixFilePermissions.toString(Files.getPosixFilePermissions(path)),
                "mode 0666 of instance echo");
            try (Connection c = ConnldClient.connect(path, TimeScale.guard(Duration.ofSeconds(10)))) {
                c.writeFully("ping\n".getBytes(StandardCharsets.US_ASCII));
                byte[] b = new byte[5];
                int got = 0;
                while (got < 5) {
                    assertTrue(c.fd().awaitReadable(TimeScale.guard(Duration.ofSeconds(10))), "no echo");
                    int n = c.read(b, got, 5 - got);
                    assertTrue(n > 0, "end of file before the echo");
                    got += n;
                }
                assertEquals("ping\n", new String(b, StandardCharsets.US_ASCII));
            }
            // :kill: SIGTERM to the contract's processes; the launcher exec'd java, so that is the server
            new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
            assertTrue(p.waitFor(TimeScale.guard(Duration.ofSeconds(30)).toMillis(), TimeUnit.MILLISECONDS), "still running after SIGTERM: " + Files.readString(log));
            assertEquals(0, p.exitValue(), Files.readString(log));
            assertFalse(Files.exists(path, LinkOption.NOFOLLOW_LINKS), "the path is still there");
        } finally {
            p.destroyForcibly().waitFor(TimeScale.guard(Duration.ofSeconds(30)).toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    // ---- the launcher ---------------------------------------------------------------

    @Test
    void launcherRunsTheJarThroughASymbolicLinkUnderPlainSh() throws Exception {
        Path home = installedLayout();
        Path bin = Files.createDirectories(tmp.resolve("usr/local/bin"));
        Path link = Files.createSymbolicLink(bin.resolve("streamsctl"), home.resolve("bin/streamsctl"));
        Path plain = tmp.resolve("plain");
        Files.writeString(plain, "x");
        Result r = run(List.of("/bin/sh", link.toString(), "info", "--json", plain.toString()), Map.of());
        assertEquals(0, r.exit, r.toString());
        assertEquals("regular file", StrictJson.object(r.out).get("file_type"), r.out);
        // a relative link, found on PATH, as "streamsctl"
        Files.delete(link);
        Files.createSymbolicLink(link, bin.relativize(home.resolve("bin/streamsctl")));
        r = run(List.of("/bin/sh", "-c", "streamsctl --version"), Map.of("PATH", bin + ":" + System.getenv("PATH")));
        assertEquals(0, r.exit, r.toString());
        assertTrue(r.out.startsWith("streamsctl "), r.out);
        // no readlink(1) on the PATH (older illumos): the link is read with ls -ld
        Path onlyLs = Files.createDirectories(tmp.resolve("only-ls"));
        Files.copy(Path.of(which("ls")), onlyLs.resolve("ls"));
        Files.setPosixFilePermissions(onlyLs.resolve("ls"), PosixFilePermissions.fromString("rwxr-xr-x"));
        r = run(List.of("/bin/sh", link.toString(), "info", "--json", plain.toString()), Map.of("PATH", onlyLs.toString()));
        assertEquals(0, r.exit, r.toString());
        assertEquals("regular file", StrictJson.object(r.out).get("file_type"), r.out);
    }

    private static String which(String tool) {
        for (String d : System.getenv("PATH").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return Path.of(d, tool).toString();
            }
        }
        throw new AssertionError("no " + tool + " on the PATH");
    }

    @Test
    void launcherSaysInOneLineWhatIsMissing() throws Exception {
        Path home = installedLayout();
        Path empty = Files.createDirectories(tmp.resolve("empty-bin"));
        Map<String, String> noJava = new LinkedHashMap<>();
        noJava.put("PATH", empty.toString());
        noJava.put("JAVA_HOME", tmp.resolve("no-such-jdk").toString());
        Result r = run(List.of("/bin/sh", home.resolve("bin/streamsctl").toString(), "--version"), noJava);
        if (Stream.of("/usr/jdk/instances/openjdk21", "/usr/jdk/instances/openjdk17", "/usr/java")
            .anyMatch(d -> Files.isExecutable(Path.of(d, "bin/java")))) {
            // illumos: not on PATH, but where OmniOS and Solaris install it
            assertEquals(0, r.exit, r.toString());
        } else {
            assertEquals(1, r.exit, r.toString());
            assertEquals("streamsctl: no java found: install a JDK or JRE 17 or newer (OmniOS: pkg install "
                + "runtime/java/openjdk17), or set JAVA_HOME\n", r.err);
        }
        Files.delete(home.resolve("lib/streams4j.jar"));
        r = run(List.of("/bin/sh", home.resolve("bin/streamsctl").toString(), "--version"), Map.of());
        assertEquals(1, r.exit, r.toString());
        assertEquals("streamsctl: no jar at " + home.toRealPath().resolve("lib/streams4j.jar")
            + ": unpack the whole distribution, or set STREAMS4J_JAR\n", r.err);
    }

    // ---- plumbing ---------------------------------------------------------------------

    /**
     * A tree like the tarball's: bin/streamsctl and lib/streams4j.jar, where
     * the jar is a manifest naming this build's class path (the real jar does
     * not exist while the tests run).
     */
    private Path installedLayout() throws IOException {
        Path home = tmp.resolve("opt/streams4j");
        Files.createDirectories(home.resolve("bin"));
        Files.createDirectories(home.resolve("lib"));
        Path launcher = home.resolve("bin/streamsctl");
        Files.copy(LAUNCHER, launcher);
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "org.streams4j.cli.StreamsCtl");
        mf.getMainAttributes().put(Attributes.Name.CLASS_PATH, List.of(CLASS_PATH.split(File.pathSeparator)).stream()
            .map(e -> Path.of(e).toUri().toString()).collect(Collectors.joining(" ")));
        try (OutputStream out = Files.newOutputStream(home.resolve("lib/streams4j.jar"));
             JarOutputStream jar = new JarOutputStream(out, mf)) {
            jar.flush();
        }
        return home;
    }

    private static void environment(ProcessBuilder pb) {
        Map<String, String> env = pb.environment();
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.remove("STREAMS4J_JAR");
        env.remove("STREAMS4J_JAVA_OPTS");
        env.remove("JAVA_TOOL_OPTIONS");
        env.remove("JDK_JAVA_OPTIONS");
        env.remove("_JAVA_OPTIONS");
    }

    private record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private Result run(List<String> cmd, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile());
        environment(pb);
        pb.environment().putAll(env);
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        p.getOutputStream().close();
        if (!p.waitFor(TimeScale.guard(Duration.ofSeconds(60)).toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            fail("still running: " + cmd);
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static void awaitLine(Process p, Path log, String prefix) throws Exception {
        long deadline = System.nanoTime() + TimeScale.guard(Duration.ofSeconds(30)).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.readAllLines(log).stream().anyMatch(l -> l.startsWith(prefix))) {
                return;
            }
            if (!p.isAlive()) {
                fail("exited " + p.exitValue() + ": " + Files.readString(log));
            }
            Thread.sleep(50);
        }
        fail("no '" + prefix + "' within 30s: " + Files.readString(log));
    }

    private static List<Element> children(Element e) {
        List<Element> l = new ArrayList<>();
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c) {
                l.add(c);
            }
        }
        return l;
    }

    private static Element only(Element parent, String tag) {
        List<Element> l = children(parent).stream().filter(c -> c.getTagName().equals(tag)).collect(Collectors.toList());
        assertEquals(1, l.size(), "<" + tag + "> in <" + parent.getTagName() + ">");
        return l.get(0);
    }

    private static Element only(Element parent, String tag, String name) {
        List<Element> l = children(parent).stream()
            .filter(c -> c.getTagName().equals(tag) && c.getAttribute("name").equals(name)).collect(Collectors.toList());
        assertEquals(1, l.size(), "<" + tag + " name=\"" + name + "\"> in <" + parent.getTagName() + ">");
        return l.get(0);
    }

    private static Element method(Element service, String name) {
        return only(service, "exec_method", name);
    }

    private static String propval(Element pg, String name) {
        return only(pg, "propval", name).getAttribute("value");
    }

    /** Properties of group streams4j as SMF composes them: the instance's over the service's. */
    private static Map<String, List<String>> composed(Element service, Element instance) {
        Map<String, List<String>> props = new LinkedHashMap<>();
        for (Element holder : List.of(service, instance)) {
            for (Element pg : children(holder)) {
                if (!pg.getTagName().equals("property_group") || !pg.getAttribute("name").equals("streams4j")) {
                    continue;
                }
                for (Element p : children(pg)) {
                    List<String> values = new ArrayList<>();
                    if (p.getTagName().equals("propval")) {
                        values.add(p.getAttribute("value"));
                    } else {
                        for (int i = 0; i < p.getElementsByTagName("value_node").getLength(); i++) {
                            values.add(((Element) p.getElementsByTagName("value_node").item(i)).getAttribute("value"));
                        }
                    }
                    props.put(p.getAttribute("name"), values);
                }
            }
        }
        return props;
    }
}
