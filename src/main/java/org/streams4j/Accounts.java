package org.streams4j;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalInt;
import org.streams4j.internal.Shim;
import org.streams4j.internal.Shim.Scratch;

/**
 * User and group names and ids, as the system's databases know them: the C
 * library's {@code getpwnam_r}, {@code getpwuid_r}, {@code getgrnam_r} and
 * {@code getgrgid_r}, so that every source {@code nsswitch.conf} names (files,
 * LDAP, NIS, sssd) answers.
 */
public final class Accounts {
    private static final int NAME_START = 64;
    private static final int NAME_MAX = 64 * 1024;

    private Accounts() {
    }

    /**
     * The uid of a user name.
     *
     * @param user a user name
     * @return the uid, or empty when no database knows the name
     * @throws StreamsException when the lookup itself fails (e.g. EIO from a directory server)
     */
    public static OptionalInt uid(String user) throws StreamsException {
        Platform.ensureAvailability();
        return valid(user) ? id("getpwnam", user, Shim.s4j_uid_of(user)) : OptionalInt.empty();
    }

    /**
     * The gid of a group name.
     *
     * @param group a group name
     * @return the gid, or empty when no database knows the name
     * @throws StreamsException when the lookup itself fails
     */
    public static OptionalInt gid(String group) throws StreamsException {
        Platform.ensureAvailability();
        return valid(group) ? id("getgrnam", group, Shim.s4j_gid_of(group)) : OptionalInt.empty();
    }

    /**
     * The name of a uid.
     *
     * @param uid a user id
     * @return its name, or empty when no database knows the id
     * @throws StreamsException when the lookup itself fails
     */
    public static Optional<String> userName(int uid) throws StreamsException {
        return name("getpwuid", uid, true);
    }

    /**
     * The name of a gid.
     *
     * @param gid a group id
     * @return its name, or empty when no database knows the id
     * @throws StreamsException when the lookup itself fails
     */
    public static Optional<String> groupName(int gid) throws StreamsException {
        return name("getgrgid", gid, false);
    }

    private static boolean valid(String name) {
        return !name.isEmpty() && name.indexOf('\0') < 0;
    }

    private static OptionalInt id(String op, String name, int r) throws StreamsException {
        if (r == -Errno.ENOENT) {
            return OptionalInt.empty();
        }
        if (r < 0) {
            throw new StreamsException(op, name, -r);
        }
        return OptionalInt.of(Scratch.get(0).buf.getInt(Scratch.ID));
    }

    private static Optional<String> name(String op, int id, boolean user) throws StreamsException {
        Platform.ensureAvailability();
        for (int size = NAME_START; ; size *= 2) {
            byte[] buf = new byte[size];
            int r = user ? Shim.s4j_user_name(id, buf, size) : Shim.s4j_group_name(id, buf, size);
            if (r == -Errno.ENOENT) {
                return Optional.empty();
            }
            if (r == -Errno.value("ERANGE") && size < NAME_MAX) {
                continue;
            }
            if (r < 0) {
                throw new StreamsException(op, Integer.toUnsignedString(id), -r);
            }
            int n = 0;
            while (n < size && buf[n] != 0) {
                n++;
            }
            return Optional.of(new String(buf, 0, n, StandardCharsets.UTF_8));
        }
    }
}
