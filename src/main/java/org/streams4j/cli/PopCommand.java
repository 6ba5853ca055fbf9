package org.streams4j.cli;

import java.util.concurrent.Callable;
import org.streams4j.StreamFd;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code streamsctl pop --fd N}: I_POP. */
@Command(name = "pop",
    header = "Pop the topmost module off the stream on fd N (I_POP). STREAMS only.",
    description = "Pop the topmost module off the stream open on descriptor N (I_POP). STREAMS only.",
    footer = {"", "Example:", "  streamsctl pop --fd 0 < /dev/term/a"})
final class PopCommand implements Callable<Integer> {
    @Mixin
    ModuleOptions opts;

    @Override
    public Integer call() throws Exception {
        StreamFd fd = Cli.inherited("pop", opts.fd);
        fd.pop();
        return 0;
    }
}
