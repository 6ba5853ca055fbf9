package org.streams4j.cli;

import java.util.List;
import java.util.concurrent.Callable;
import org.streams4j.StreamFd;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code streamsctl list --fd N}: I_LIST. */
@Command(name = "list",
    header = "List the modules on the stream on fd N (I_LIST). STREAMS only.",
    description = {
        "List the modules on the stream open on descriptor N (I_LIST), one per line,",
        "topmost first; the last line is the driver (a pipe has none). STREAMS only.",
    },
    footer = {"", "Example:", "  streamsctl list --fd 0 < /dev/term/a"})
final class ListCommand implements Callable<Integer> {
    @Mixin
    ModuleOptions opts;

    @Override
    public Integer call() throws Exception {
        StreamFd fd = Cli.inherited("list", opts.fd);
        List<String> mods = fd.list();
        StringBuilder sb = new StringBuilder();
        for (String m : mods) {
            sb.append(m).append(System.lineSeparator());
        }
        System.out.print(sb);
        System.out.flush();
        return 0;
    }
}
