package org.streams4j;

import java.util.HashMap;
import java.util.Map;

/**
 * {@link ConnldOptions#maxConnectionsPerUid()}: how many connections each
 * uid holds. Taken on the accept thread, given back when a connection
 * ends (its peer() is known by then, so no system call).
 */
final class Shares {
    final int max;
    private final Map<Integer, Integer> held = new HashMap<>();

    Shares(int max) {
        this.max = max;
    }

    /** Counts c against its uid's share; false (nothing counted) when the share is full. */
    synchronized boolean take(Connection c) {
        if (max == 0) {
            return true;
        }
        int uid = c.peer().uid();
        int n = held.getOrDefault(uid, 0);
        if (n >= max) {
            return false;
        }
        held.put(uid, n + 1);
        return true;
    }

    synchronized void give(Connection c) {
        if (max == 0) {
            return;
        }
        held.computeIfPresent(c.peer().uid(), (u, n) -> n <= 1 ? null : n - 1);
    }
}
