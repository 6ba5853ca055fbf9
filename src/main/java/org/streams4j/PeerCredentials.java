package org.streams4j;

import java.util.HashSet;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.streams4j.internal.Shim;
import org.streams4j.internal.Shim.Scratch;

/**
 * Who is at the other end: effective uid and gid, and where the platform says
 * so, the pid, the zone id and the supplementary groups. Absent fields are
 * absent, never zero.
 *
 * @param uid the peer's effective user id
 * @param gid the peer's effective group id
 * @param pid the peer's process id; absent where the platform cannot say
 * @param zone the peer's zone id; absent on platforms without zones
 * @param groups the peer's supplementary group ids ({@code ucred_getgroups} on
 *     illumos, {@code SO_PEERGROUPS} on Linux); empty where the platform does
 *     not report them
 */
public record PeerCredentials(int uid, int gid, OptionalInt pid, OptionalInt zone, Set<Integer> groups) {

    /**
     * Checks and copies: no component may be null; {@code groups} is kept as
     * an unmodifiable copy.
     *
     * @param uid the effective user id
     * @param gid the effective group id
     * @param pid the process id, if known
     * @param zone the zone id, if known
     * @param groups the supplementary group ids
     */
    public PeerCredentials {
        Objects.requireNonNull(pid, "pid");
        Objects.requireNonNull(zone, "zone");
        groups = Set.copyOf(groups);
    }

    /**
     * Credentials without supplementary groups; -1 marks pid or zone as absent.
     *
     * @param uid the effective user id
     * @param gid the effective group id
     * @param pid the process id, or -1
     * @param zone the zone id, or -1
     */
    public PeerCredentials(int uid, int gid, int pid, int zone) {
        this(uid, gid, pid < 0 ? OptionalInt.empty() : OptionalInt.of(pid),
            zone < 0 ? OptionalInt.empty() : OptionalInt.of(zone), Set.of());
    }

    /**
     * The same credentials with these supplementary groups.
     *
     * @param supplementary the group ids
     * @return a new record
     */
    public PeerCredentials withGroups(Set<Integer> supplementary) {
        return new PeerCredentials(uid, gid, pid, zone, supplementary);
    }

    /**
     * Whether the peer is a member of the group: its effective gid or one of
     * its supplementary groups.
     *
     * @param group a group id
     * @return true for a member
     */
    public boolean inGroup(int group) {
        return gid == group || groups.contains(group);
    }

    /**
     * The kernel's answer for the process at the other end of {@code d}
     * (getpeerucred, SO_PEERCRED, getpeereid), groups included where the
     * platform reports them (ucred_getgroups, SO_PEERGROUPS).
     */
    static PeerCredentials of(Descriptor d) throws StreamsException {
        int max = 32;
        while (true) {
            Scratch s = Scratch.get(4 * max);
            int room = max;
            int n = d.call("peerCredentials", fd -> Shim.s4j_peer_cred_groups(fd,
                s.address + Scratch.CRED, s.address + Scratch.BYTES, room));
            if (n > max) {
                max = n;     // more groups than room: ask again with enough
                continue;
            }
            Set<Integer> groups = n == 0 ? Set.of() : new HashSet<>();
            for (int i = 0; i < n; i++) {
                groups.add(s.buf.getInt(Scratch.BYTES + 4 * i));
            }
            return new PeerCredentials(s.cred(Shim.CRED_UID), s.cred(Shim.CRED_GID),
                s.cred(Shim.CRED_PID), s.cred(Shim.CRED_ZONE)).withGroups(groups);
        }
    }

    /** {@code uid=501 gid=20 pid=4711 zone=0 groups=12,20}, absent fields left out. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder().append("uid=").append(uid).append(" gid=").append(gid);
        pid.ifPresent(p -> sb.append(" pid=").append(p));
        zone.ifPresent(z -> sb.append(" zone=").append(z));
        if (!groups.isEmpty()) {
            sb.append(" groups=").append(new TreeSet<>(groups).stream().map(String::valueOf)
                .collect(Collectors.joining(",")));
        }
        return sb.toString();
    }
}
