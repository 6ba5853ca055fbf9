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
    private static final Path METHOD = ROOT.resolve("src/dist/share/smf/streams4j-serve-method");
    private static final String METHOD_INSTALLED = "/opt/streams4j/share/smf/streams4j-serve-method";

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
    void smfManifestRunsServeAsANonRootUserAndStopsItWithSigterm() throws IOException {
        Element service = only(manifest.getDocumentElement(), "service");
        assertEquals("application/streams4j/serve", service.getAttribute("name"));
        assertEquals("manifest", manifest.getDocumentElement().getAttribute("type"));
        Element start = method(service, "start");
        // no %{...} token: svc.startd would give its values to /sbin/sh -c half quoted (see smfValues...)
        assertEquals(METHOD_INSTALLED, start.getAttribute("exec"));
        // stop: svc.startd's :kill sends SIGTERM (smf_method(7)); no other signal named
        assertEquals(":kill", method(service, "stop").getAttribute("exec"));
        // the server is the service's process: it must stay in the foreground
        assertEquals("child", propval(only(service, "property_group", "startd"), "duration"));
        Element cred = (Element) service.getElementsByTagName("method_credential").item(0);
        assertTrue(cred != null && !cred.getAttribute("user").isEmpty(), "no method_credential");
        assertNotEquals("root", cred.getAttribute("user"));
        assertNotEquals("0", cred.getAttribute("user"));
        // one extra privilege, to make /var/run/streams4j, which the method gives up before serve starts
        assertEquals("basic,file_dac_write", cred.getAttribute("privileges"));
        assertTrue(Files.readString(METHOD).contains("\tppriv -s EPI-file_dac_write $$ || die"), "the method keeps file_dac_write");
        assertEquals(0, manifest.getElementsByTagName("envvar").getLength(), "JAVA_HOME is the launcher's to find");
        // every property the method reads is set for every instance (instance or service)
        List<String> used = List.of("path", "mode", "max_clients", "options");
        for (String prop : used) {
            assertTrue(Files.readString(METHOD).contains(" " + prop), "the method does not read " + prop);
        }
        // instance echo's name is in a directory only root (or the method) can make, not in /tmp
        String echo = composed(service, only(service, "instance", "echo")).get("path").get(0);
        assertEquals("/var/run/streams4j/echo", echo);
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

    /**
     * The start method, run as svc.startd runs it for instance echo (its exec
     * through /sbin/sh -c, the properties from svcprop), really serves, makes
     * the directory of its path, and stops on SIGTERM.
     */
    @Test
    void smfStartMethodServesThePathAndSigtermRemovesIt() throws Exception {
        Element service = only(manifest.getDocumentElement(), "service");
        Map<String, List<String>> props = composed(service, only(service, "instance", "echo"));
        // /var/run/streams4j/echo: /var/run is there, streams4j/ not yet
        Path path = Files.createDirectories(tmp.resolve("run")).resolve("streams4j/echo");
        props.put("path", List.of(path.toString()));
        Path home = installedLayout();
        Path log = tmp.resolve("serve.log");
        ProcessBuilder pb = startd(service, props, home).redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        try {
            awaitLine(p, log, "streamsctl: serving " + path);
            assertEquals("rw-rw-rw-", PosixFilePermissions.toString(Files.getPosixFilePermissions(path)),
                "mode 0666 of instance echo");
            assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(path.getParent())),
                "the directory the method made");
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
            // :kill: SIGTERM to the contract's processes; sh, the method and the launcher exec'd java
            new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
            assertTrue(p.waitFor(TimeScale.guard(Duration.ofSeconds(30)).toMillis(), TimeUnit.MILLISECONDS), "still running after SIGTERM: " + Files.readString(log));
            assertEquals(0, p.exitValue(), Files.readString(log));
            assertFalse(Files.exists(path, LinkOption.NOFOLLOW_LINKS), "the path is still there");
        } finally {
            p.destroyForcibly().waitFor(TimeScale.guard(Duration.ofSeconds(30)).toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Issue 20, 8: svc.startd hands %{...} values to /sbin/sh -c quoted by
     * quote_for_shell (expand.c), which leaves $, *, ?, [, ~ and # to the
     * shell. Every value must reach streamsctl serve as one word, exactly as
     * set. (Before the fix the start method's exec carried the tokens:
     * $HOME and * were expanded and #x ended the command line.)
     */
    @Test
    void smfValuesReachServeAsOneWordEachExactlyAsSet() throws Exception {
        Element service = only(manifest.getDocumentElement(), "service");
        Map<String, List<String>> props = composed(service, only(service, "instance", "echo"));
        Files.writeString(tmp.resolve("a-file-for-the-glob"), "");
        Path path = tmp.resolve("it's $HOME [x] ~").resolve("echo *");
        List<String> options = List.of("--exec", "/bin/echo", "$HOME", "${HOME}", "*", "?", "[a]", "~", "~root", "#x",
            "a b", "it's", "\"q\"", "back\\slash", "", "semi;colon", "$(id)", "`id`", "tab\tnl\nend", "%{x}", "!", "-");
        props.put("path", List.of(path.toString()));
        props.put("mode", List.of("0660"));
        props.put("max_clients", List.of("7"));
        props.put("options", options);
        Path home = installedLayout();
        // streamsctl replaced by a program that writes its arguments, each ended by NUL
        Path args = tmp.resolve("args");
        Files.writeString(home.resolve("bin/streamsctl"), "#!/bin/sh\nfor a; do printf '%s\\000' \"$a\"; done >'" + args + "'\n");
        Process p = startd(service, props, home).redirectErrorStream(true).redirectOutput(tmp.resolve("method.log").toFile())
            .start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the method is still running");
        assertEquals(0, p.exitValue(), Files.readString(tmp.resolve("method.log")));
        List<String> expected = new ArrayList<>(List.of("serve", path.toString(), "--mode", "0660", "--max-clients", "7"));
        expected.addAll(options);
        String got = Files.exists(args) ? Files.readString(args) : "";
        List<String> argv = got.isEmpty() ? List.of() : List.of(got.substring(0, got.length() - 1).split("\0", -1));
        assertEquals(expected, argv);
        // a property that is not one word, or a relative path: exit 96 (SMF_EXIT_ERR_CONFIG), one line
        props.put("path", List.of("relative/echo"));
        p = startd(service, props, home).redirectErrorStream(true).redirectOutput(tmp.resolve("method.log").toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(96, p.exitValue());
        assertEquals("streams4j-serve-method: streams4j/path is relative/echo: it must be an absolute path\n",
            Files.readString(tmp.resolve("method.log")));
        props.put("path", List.of("/a", "/b"));
        p = startd(service, props, home).redirectErrorStream(true).redirectOutput(tmp.resolve("method.log").toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(96, p.exitValue());
        assertEquals("streams4j-serve-method: streams4j/path has 2 values; it needs one\n",
            Files.readString(tmp.resolve("method.log")));
    }

    /** svcprop's and svc.startd's quote_for_shell (usr/src/cmd/svcprop/svcprop.c, usr/src/cmd/svc/startd/expand.c). */
    private static String quoteForShell(String v) {
        StringBuilder b = new StringBuilder();
        for (char c : v.toCharArray()) {
            if (";&()|^<>\n \t\\\"'`".indexOf(c) >= 0) {
                b.append('\\');
            }
            b.append(c);
        }
        return b.toString();
    }

    /**
     * The start method as svc.startd runs it (method.c's exec_method): its
     * %{streams4j/...} tokens, if any, replaced by the values quoted and
     * separated by spaces (expand_method_tokens), then
     * {@code /sbin/sh -c "exec " + method} with SMF_FMRI set; the installed
     * /opt/streams4j/ is {@code home}, and a fake svcprop on the PATH prints
     * what the real one would for {@code props} (values quoted the same way,
     * one space between them, an empty value as "").
     */
    private ProcessBuilder startd(Element service, Map<String, List<String>> props, Path home) throws IOException {
        String fmri = "svc:/application/streams4j/serve:echo";
        Path bin = Files.createDirectories(tmp.resolve("svc-bin"));
        Path values = Files.createDirectories(tmp.resolve("svc-props"));
        for (Map.Entry<String, List<String>> e : props.entrySet()) {
            Files.writeString(values.resolve(e.getKey()), e.getValue().stream()
                .map(v -> v.isEmpty() ? "\"\"" : quoteForShell(v)).collect(Collectors.joining(" ")) + "\n");
        }
        Files.writeString(bin.resolve("svcprop"), "#!/bin/sh\n"
            + "[ $# -eq 3 ] && [ \"$1\" = -p ] && [ \"$3\" = '" + fmri + "' ] || { echo \"svcprop: unexpected $*\" >&2; exit 2; }\n"
            + "f='" + values + "'/${2#streams4j/}\n"
            + "[ -f \"$f\" ] || { echo \"svcprop: Couldn't find property \\`$2' for instance \\`$3'.\" >&2; exit 1; }\n"
            + "exec cat \"$f\"\n");
        Files.setPosixFilePermissions(bin.resolve("svcprop"), PosixFilePermissions.fromString("rwxr-xr-x"));
        String exec = method(service, "start").getAttribute("exec");
        assertTrue(exec.startsWith("/opt/streams4j/"), exec);
        Matcher m = Pattern.compile("%\\{streams4j/([a-z_]+)\\}").matcher(home + exec.substring("/opt/streams4j".length()));
        StringBuilder cmd = new StringBuilder("exec ");
        while (m.find()) {
            m.appendReplacement(cmd, Matcher.quoteReplacement(
                props.get(m.group(1)).stream().map(DistributionTest::quoteForShell).collect(Collectors.joining(" "))));
        }
        m.appendTail(cmd);
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", cmd.toString()).directory(tmp.toFile());
        environment(pb);
        pb.environment().put("SMF_FMRI", fmri);
        pb.environment().put("SMF_METHOD", "start");
        pb.environment().put("PATH", bin + ":/usr/sbin:/usr/bin:/bin");
        return pb;
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
        noJava.put("S4J_JDK_ROOT", Files.createDirectories(tmp.resolve("empty-root")).toString());   // no /usr/java, /usr/jdk
        Result r = run(List.of("/bin/sh", home.resolve("bin/streamsctl").toString(), "--version"), noJava);
        assertEquals(1, r.exit, r.toString());
        assertEquals("streamsctl: no Java 17 or newer found ($JAVA_HOME, /usr/java, the PATH, /usr/jdk/instances/*): "
            + "install one (OmniOS: pkg install runtime/java/openjdk17), or set JAVA_HOME\n", r.err);
        Files.delete(home.resolve("lib/streams4j.jar"));
        r = run(List.of("/bin/sh", home.resolve("bin/streamsctl").toString(), "--version"), Map.of());
        assertEquals(1, r.exit, r.toString());
        assertEquals("streamsctl: no jar at " + home.toRealPath().resolve("lib/streams4j.jar")
            + ": unpack the whole distribution, or set STREAMS4J_JAR\n", r.err);
    }

    /**
     * OmniOS: no JAVA_HOME, no java on the PATH; /usr/java -> jdk/openjdk17.0 ->
     * instances/openjdk17.0 (issue 19, 1: the launcher looked in
     * /usr/jdk/instances/openjdk17, which OmniOS does not have).
     */
    @Test
    void launcherFindsJavaWhereOmniosInstallsIt() throws Exception {
        Path home = installedLayout();
        Path root = tmp.resolve("omnios");
        Path jdk = Files.createDirectories(root.resolve("usr/jdk/instances/openjdk17.0/bin"));
        Path ran = tmp.resolve("the-omnios-java-ran");
        for (String t : List.of("java", "javac")) {
            Files.writeString(jdk.resolve(t), "#!/bin/sh\n: >'" + ran + "'\nexec '"
                + Path.of(System.getProperty("java.home"), "bin", t) + "' \"$@\"\n");
            Files.setPosixFilePermissions(jdk.resolve(t), PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Files.writeString(jdk.resolveSibling("release"), "JAVA_VERSION=\"17.0.12\"\n");
        Files.createSymbolicLink(root.resolve("usr/jdk/openjdk17.0"), Path.of("instances/openjdk17.0"));
        Files.createSymbolicLink(root.resolve("usr/java"), Path.of("jdk/openjdk17.0"));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("JAVA_HOME", null);
        env.put("PATH", Files.createDirectories(tmp.resolve("empty-bin")) + ":/usr/bin:/bin");
        env.put("S4J_JDK_ROOT", root.toString());
        Result r = run(List.of("/bin/sh", home.resolve("bin/streamsctl").toString(), "--version"), env);
        assertEquals(0, r.exit, r.toString());
        assertTrue(r.out.startsWith("streamsctl "), r.toString());
        assertTrue(Files.exists(ran), "not run by /usr/java/bin/java");
    }

    /**
     * Issue 20, 5: STREAMS4J_JAVA_OPTS was expanded unquoted with globbing on.
     * Root ran the launcher with -Xlog:gc* in a directory the attacker
     * writes, who had made a file named "-Xlog:gc:victim::filecount=0" and
     * a link victim to a root file: the glob turned the option into a GC log
     * written over that file.
     */
    @Test
    void launcherNeverGlobsStreams4jJavaOpts() throws Exception {
        Path home = installedLayout();
        Path attacker = Files.createDirectories(tmp.resolve("attacker"));
        Path rootFile = tmp.resolve("root-file");
        Files.writeString(rootFile, "root's\n");
        // filecount=0: no rotation, so the JVM writes through the link (the default renames it first)
        Files.writeString(attacker.resolve("-Xlog:gc:victim::filecount=0"), "");
        Files.createSymbolicLink(attacker.resolve("victim"), rootFile);
        Result r = run(attacker, List.of("/bin/sh", home.resolve("bin/streamsctl").toString(), "--version"),
            Map.of("STREAMS4J_JAVA_OPTS", "-Xlog:gc* -Dstreams4j.unused=?"));
        assertEquals("root's\n", Files.readString(rootFile), "the GC log went into the attacker's link");
        assertEquals(0, r.exit, r.toString());
        assertTrue(r.out.contains("streamsctl "), r.toString());
        assertTrue(r.out.contains("[gc"), "-Xlog:gc* did not reach the JVM as written: " + r);
    }

    /**
     * Issue 20, 5: cd -P honoured CDPATH. Root ran bin/streamsctl from the
     * distribution's directory with a CDPATH naming the attacker's directory:
     * cd went into the attacker's bin/ and printed it, so the jar's path
     * held a newline and named the attacker's jar.
     */
    @Test
    void launcherIgnoresCdpath() throws Exception {
        Path home = installedLayout();
        Path attacker = Files.createDirectories(tmp.resolve("attacker"));
        Files.createDirectories(attacker.resolve("bin"));
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "AttackersMain");
        // the jar the old launcher ran: $bindir was "A/bin\nA/bin", so lib/ is under "A/bin\n" + A
        for (Path evil : List.of(Path.of(attacker + "/bin\n" + attacker + "/lib/streams4j.jar"), attacker.resolve("lib/streams4j.jar"))) {
            Files.createDirectories(evil.getParent());
            try (OutputStream out = Files.newOutputStream(evil); JarOutputStream jar = new JarOutputStream(out, mf)) {
                jar.flush();
            }
        }
        Result r = run(home, List.of("/bin/sh", "bin/streamsctl", "--version"), Map.of("CDPATH", attacker.toString()));
        assertFalse((r.out + r.err).contains("AttackersMain"), "the attacker's jar ran: " + r);
        assertEquals(0, r.exit, r.toString());
        assertTrue(r.out.startsWith("streamsctl "), r.toString());
    }

    /** A java in the current directory (PATH=.:..., or an empty entry) is never the one run. */
    @Test
    void launcherNeverRunsAJavaFromARelativePathEntry() throws Exception {
        Path home = installedLayout();
        Path attacker = Files.createDirectories(tmp.resolve("attacker"));
        Path ran = tmp.resolve("the-attackers-java-ran");
        Files.writeString(attacker.resolve("java"), "#!/bin/sh\n: >'" + ran + "'\n");
        Files.setPosixFilePermissions(attacker.resolve("java"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("JAVA_HOME", null);
        env.put("S4J_JDK_ROOT", Files.createDirectories(tmp.resolve("empty-root")).toString());
        env.put("PATH", ".::" + Path.of(System.getProperty("java.home"), "bin") + ":/usr/bin:/bin");
        Result r = run(attacker, List.of("/bin/sh", home.resolve("bin/streamsctl").toString(), "--version"), env);
        assertFalse(Files.exists(ran), "ran ./java");
        assertEquals(0, r.exit, r.toString());
        assertTrue(r.out.startsWith("streamsctl "), r.toString());
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
        Path method = Files.createDirectories(home.resolve("share/smf")).resolve("streams4j-serve-method");
        Files.copy(METHOD, method);
        Files.setPosixFilePermissions(method, PosixFilePermissions.fromString("rwxr-xr-x"));
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
        return run(tmp, cmd, env);
    }

    /** cmd run in dir, with env over environment()'s (a null value unsets). */
    private Result run(Path dir, List<String> cmd, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        environment(pb);
        env.forEach((k, v) -> {
            if (v == null) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
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
