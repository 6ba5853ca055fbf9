package org.streams4j;

import java.lang.System.Logger.Level;

/**
 * How a handler's failure is logged, the same for {@code serve} and
 * {@code serveEvents}: a connection that was closed under the handler, or a
 * client that left (EPIPE, ECONNRESET, a STREAMS hang-up), is how
 * connections routinely end and is one DEBUG line; anything else is a
 * WARNING with the stack trace, for an operator to look at. Either way the
 * connection is closed and the server goes on.
 */
final class HandlerLog {
    private static final System.Logger LOG = System.getLogger("org.streams4j.connld");

    private HandlerLog() {
    }

    /**
     * @param name the server's path
     * @param what the handler method that failed ({@code handle}, {@code readable}...)
     */
    static void failed(String name, String what, Connection c, Throwable e) {
        if (e instanceof StreamClosedException || !c.isOpen()) {
            LOG.log(Level.DEBUG, "{0}: {1}", name, e.getMessage());
        } else if (e instanceof StreamsException && ((StreamsException) e).isPeerGone()) {
            LOG.log(Level.DEBUG, "{0}: {1} left: {2}", name, c.peer(), e.getMessage());
        } else {
            LOG.log(Level.WARNING, name + ": " + what + "() failed for " + c + " (peer " + c.peer()
                + "); closing that connection", e);
        }
    }
}
