package org.streams4j.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code --fd N}, required by push, pop and list. */
final class ModuleOptions {
    @Option(names = "--fd", paramLabel = "N", required = true,
        description = "The stream: a descriptor this command inherited, e.g. --fd 0 < /dev/x.")
    int fd;

    /** FMNAMESZ: module names are at most 8 characters. */
    static final int MAX_NAME = 8;

    static void checkModuleName(CommandSpec spec, String module) {
        if (module.isEmpty() || module.length() > MAX_NAME || !module.matches("[\\x21-\\x7e]+")) {
            throw new ParameterException(spec.commandLine(), "invalid module name '" + module
                + "': a module name is 1 to " + MAX_NAME + " printable ASCII characters (FMNAMESZ)");
        }
    }
}
