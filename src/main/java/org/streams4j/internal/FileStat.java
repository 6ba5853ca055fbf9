package org.streams4j.internal;

/**
 * What {@code fstat}/{@code fstatat} said of one file (the shim's
 * {@code S4J_ST_*} slots), or the errno it failed with. Used to act on the
 * file that was checked, never on whatever a name leads to later.
 */
public record FileStat(int errno, long dev, long ino, int type, int perm, int uid, int gid,
                       long nlink, long size, long mtimeNs, long ctimeNs) {

    private static final int COUNT = 10;

    /** {@code fstat(fd)}. */
    public static FileStat of(int fd) {
        Shim.Scratch s = Shim.Scratch.get(0);
        return read(s, Shim.s4j_fstat(fd, s.address + Shim.Scratch.STAT));
    }

    /** {@code fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW)}; dirfd may be {@link Shim#AT_FDCWD}. */
    public static FileStat at(int dirfd, String name) {
        long n = Shim.Scratch.cString(name);
        Shim.Scratch s = Shim.Scratch.get(0);
        return read(s, Shim.s4j_fstatat(dirfd, n, s.address + Shim.Scratch.STAT));
    }

    /** {@code lstat(path)}. */
    public static FileStat ofPath(String path) {
        return at(Shim.AT_FDCWD, path);
    }

    private static FileStat read(Shim.Scratch s, int r) {
        if (r < 0) {
            return new FileStat(-r, 0, 0, -1, 0, -1, -1, 0, 0, 0, 0);
        }
        long[] v = new long[COUNT];
        for (int i = 0; i < COUNT; i++) {
            v[i] = s.buf.getLong(Shim.Scratch.STAT + 8 * i);
        }
        return new FileStat(0, v[0], v[1], (int) v[2], (int) v[3], (int) v[4], (int) v[5],
            v[6], v[7], v[8], v[9]);
    }

    public boolean ok() {
        return errno == 0;
    }

    /** The same file: same device and inode. */
    public boolean sameFile(FileStat o) {
        return ok() && o != null && o.ok() && dev == o.dev && ino == o.ino;
    }
}
