package org.streams4j.cli;

import java.util.List;
import java.util.concurrent.Callable;
import org.streams4j.StreamFd;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code streamsctl list --fd N [-m MODULE | -t]}: I_LIST, I_FIND, I_LOOK, as strconf(1) answers them. */
@Command(name = "list",
    header = "List the modules on the stream on fd N (I_LIST); -m and -t answer like strconf. STREAMS only.",
    sortOptions = false,
    description = {
        "List the modules on the stream open on descriptor N (I_LIST), one per line,",
        "topmost first; the last line is the driver (a pipe has none). STREAMS only.",
        "Like strconf(1), -m MODULE answers by exit status whether MODULE is on the stream",
        "(I_FIND: prints yes and exits 0, or no and exits 1), and -t prints the topmost",
        "module (I_LOOK; exit 1 and no output when there is none).",
    },
    footer = {
        "",
        "Examples:",
        "  streamsctl list --fd 0 < /dev/term/a",
        "  if streamsctl list --fd 0 -m ldterm < /dev/term/a >/dev/null; then echo line discipline; fi",
    })
final class ListCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModuleOptions opts;

    @Option(names = "-m", paramLabel = "MODULE",
        description = "Is MODULE on the stream (I_FIND)? Prints yes (exit 0) or no (exit 1).")
    String module;

    @Option(names = "-t", description = "Print only the topmost module (I_LOOK); exit 1 if there is none.")
    boolean top;

    @Override
    public Integer call() throws Exception {
        if (module != null && top) {
            throw new ParameterException(spec.commandLine(), "-m and -t are mutually exclusive");
        }
        if (module != null) {
            ModuleOptions.checkModuleName(spec, module);
        }
        StreamFd fd = Cli.inherited("list", opts.fd);
        StringBuilder sb = new StringBuilder();
        int status = 0;
        if (module != null) {
            boolean found = fd.find(module);
            sb.append(found ? "yes" : "no").append(System.lineSeparator());
            status = found ? 0 : 1;
        } else if (top) {
            String m = fd.look();
            if (m != null) {
                sb.append(Cli.escape(m)).append(System.lineSeparator());
            }
            status = m != null ? 0 : 1;
        } else {
            List<String> mods = fd.list();
            for (String m : mods) {
                sb.append(Cli.escape(m)).append(System.lineSeparator());
            }
        }
        System.out.print(sb);
        System.out.flush();
        return status;
    }
}
