package org.streams4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.streams4j.Backend;
import org.streams4j.Platform;
import org.streams4j.Streams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code streamsctl detach PATH}: fdetach, or its portable equivalent. */
@Command(name = "detach",
    header = "Detach the stream attached at PATH (fdetach; portable: remove the socket).",
    description = {
        "Detach the stream attached at PATH (fdetach): the path shows the file underneath again.",
        "A server still running keeps running, unreachable through PATH.",
        "Portable backend: removes the server's AF_UNIX socket at PATH, which has the same effect,",
        "and nothing else: PATH's directory is reached without following a symbolic link that",
        "neither root nor this user owns (ELOOP), and the socket is checked (device and inode)",
        "in a directory only this process can write before it is unlinked.",
    },
    footer = {"", "Example:", "  streamsctl detach /var/run/myservice"})
final class DetachCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "PATH", description = "An attach point.")
    Path path;

    @Override
    public Integer call() throws Exception {
        String p = path.toString();
        Streams.detach(path);
        Cli.note(Platform.backend() == Backend.STREAMS ? "detached " + p
            : "detached " + p + " (removed the server's socket)");
        return 0;
    }
}
