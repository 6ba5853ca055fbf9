package org.streams4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.streams4j.Backend;
import org.streams4j.Errno;
import org.streams4j.Platform;
import org.streams4j.Streams;
import org.streams4j.StreamsException;
import org.streams4j.internal.Shim;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code streamsctl detach PATH}: fdetach, or its portable equivalent. */
@Command(name = "detach",
    header = "Detach the stream attached at PATH (fdetach; portable: remove the socket).",
    description = {
        "Detach the stream attached at PATH (fdetach): the path shows the file underneath again.",
        "A server still running keeps running, unreachable through PATH.",
        "Portable backend: removes the server's AF_UNIX socket at PATH, which has the same effect.",
    },
    footer = {"", "Example:", "  streamsctl detach /var/run/myservice"})
final class DetachCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "PATH", description = "An attach point.")
    Path path;

    @Override
    public Integer call() throws Exception {
        String p = path.toString();
        if (Platform.backend() == Backend.STREAMS) {
            Streams.fdetach(path);
            Cli.note("detached " + p);
            return 0;
        }
        int type = Shim.s4j_path_type(p);
        if (type < 0) {
            throw new StreamsException("detach", p, -type);
        }
        if (type != Shim.FT_SOCKET) {
            throw new StreamsException("detach", p, Errno.EINVAL,
                "nothing is attached there: a " + Cli.fileType(type) + ", not a server's socket");
        }
        Files.delete(path);
        Cli.note("detached " + p + " (removed the server's socket)");
        return 0;
    }
}
