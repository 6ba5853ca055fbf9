package org.streams4j;

import java.util.OptionalInt;

/**
 * Who is at the other end: effective uid and gid, and where the platform says
 * so, the pid and the zone id. Absent fields are absent, never zero.
 */
public final class PeerCredentials {
    private final int uid;
    private final int gid;
    private final int pid;
    private final int zone;

    /** -1 marks a field as absent. */
    public PeerCredentials(int uid, int gid, int pid, int zone) {
        this.uid = uid;
        this.gid = gid;
        this.pid = pid;
        this.zone = zone;
    }

    public int uid() {
        return uid;
    }

    public int gid() {
        return gid;
    }

    /** The peer's process id; absent where the platform cannot say. */
    public OptionalInt pid() {
        return pid < 0 ? OptionalInt.empty() : OptionalInt.of(pid);
    }

    /** The peer's zone id; absent on platforms without zones. */
    public OptionalInt zone() {
        return zone < 0 ? OptionalInt.empty() : OptionalInt.of(zone);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PeerCredentials p && p.uid == uid && p.gid == gid && p.pid == pid && p.zone == zone;
    }

    @Override
    public int hashCode() {
        return ((uid * 31 + gid) * 31 + pid) * 31 + zone;
    }

    /** {@code uid=501 gid=20 pid=4711 zone=0}, absent fields left out. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder().append("uid=").append(uid).append(" gid=").append(gid);
        if (pid >= 0) {
            sb.append(" pid=").append(pid);
        }
        if (zone >= 0) {
            sb.append(" zone=").append(zone);
        }
        return sb.toString();
    }
}
