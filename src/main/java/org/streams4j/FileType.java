package org.streams4j;

import org.streams4j.internal.Shim;

/** What kind of file a descriptor refers to ({@code fstat(2)}), from {@link StreamFd#fileType()}. */
public enum FileType {
    /** A regular file. */
    REGULAR(Shim.FT_REGULAR, "regular file"),
    /** A directory. */
    DIRECTORY(Shim.FT_DIRECTORY, "directory"),
    /** A pipe or FIFO (a STREAMS pipe end on illumos). */
    FIFO(Shim.FT_FIFO, "FIFO"),
    /** A socket (the portable backend's pipes and connections). */
    SOCKET(Shim.FT_SOCKET, "socket"),
    /** A character device, such as a terminal. */
    CHARACTER_DEVICE(Shim.FT_CHAR, "character device"),
    /** A block device. */
    BLOCK_DEVICE(Shim.FT_BLOCK, "block device"),
    /** A symbolic link. */
    SYMBOLIC_LINK(Shim.FT_SYMLINK, "symbolic link"),
    /** Anything else (a door on illumos, for one). */
    OTHER(Shim.FT_OTHER, "other");

    private static final FileType[] BY_SHIM = new FileType[8];

    static {
        for (FileType t : values()) {
            BY_SHIM[t.shim] = t;
        }
    }

    private final int shim;
    private final String description;

    FileType(int shim, String description) {
        this.shim = shim;
        this.description = description;
    }

    /**
     * The words for it in messages.
     *
     * @return e.g. {@code "regular file"}
     */
    public String description() {
        return description;
    }

    /** The type the shim's FT_* value stands for. */
    static FileType of(int shim) {
        return shim >= 0 && shim < BY_SHIM.length && BY_SHIM[shim] != null ? BY_SHIM[shim] : OTHER;
    }
}
