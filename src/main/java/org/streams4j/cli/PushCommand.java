package org.streams4j.cli;

import java.util.concurrent.Callable;
import org.streams4j.StreamFd;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code streamsctl push MODULE --fd N}: I_PUSH. */
@Command(name = "push",
    header = "Push a module onto the stream on fd N (I_PUSH). STREAMS only.",
    description = {
        "Push MODULE onto the stream open on descriptor N (I_PUSH). STREAMS only.",
        "The module stays for as long as the stream is open: the descriptor must be one",
        "that outlives this command, e.g. a device the shell holds open.",
    },
    footer = {"", "Example:", "  exec 3<>/dev/term/a; streamsctl push ttcompat --fd 3"})
final class PushCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODULE", description = "Module name, at most 8 characters.")
    String module;

    @Mixin
    ModuleOptions opts;

    @Override
    public Integer call() throws Exception {
        ModuleOptions.checkModuleName(spec, module);
        StreamFd fd = Cli.inherited("push", opts.fd);
        fd.push(module);
        return 0;
    }
}
