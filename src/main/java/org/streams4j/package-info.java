/**
 * SVR4/illumos STREAMS for Java: connld servers that learn each client's
 * credentials, descriptor passing, module stacks and attach points, with a
 * portable backend (AF_UNIX, {@code SCM_RIGHTS}, peer credentials) that keeps
 * the same contract on Linux, macOS and the BSDs.
 *
 * <h2>A server and a client</h2>
 * <pre>{@code
 * try (ConnldServer server = ConnldServer.bind(Path.of("/run/myapp/socket"))) {
 *     server.serve(c -> {                              // a thread per connection
 *         PeerCredentials who = c.peer();              // uid, gid; pid and zone where known
 *         c.writeFully(("hello, uid " + who.uid() + "\n").getBytes(UTF_8));
 *     });
 * }
 *
 * try (Connection c = ConnldClient.connect(Path.of("/run/myapp/socket"), Duration.ofSeconds(5))) {
 *     byte[] b = new byte[256];
 *     int n = c.read(b, 0, b.length, Duration.ofSeconds(5));
 * }
 * }</pre>
 *
 * <h2>Where to start</h2>
 * <ul>
 * <li>{@link org.streams4j.ConnldServer}: {@code bind}, then {@code accept},
 *     {@code serve} (a thread per connection) or {@code serveEvents} (event
 *     loops for many mostly idle connections); options in
 *     {@link org.streams4j.ConnldOptions}.</li>
 * <li>{@link org.streams4j.ConnldClient}: {@code connect}, bounded in time.</li>
 * <li>{@link org.streams4j.Connection} and {@link org.streams4j.StreamFd}:
 *     reads and writes (also with time-outs), {@code sendFd} and
 *     {@code receiveFd}, module operations ({@code push}, {@code pop},
 *     {@code list}); {@link org.streams4j.StreamFd#inputStream()},
 *     {@link org.streams4j.StreamFd#channel()} give the JDK's
 *     {@link java.io.InputStream} and {@link java.nio.channels.ByteChannel}
 *     views.</li>
 * <li>{@link org.streams4j.Streams}: {@code fattach}, {@code fdetach},
 *     {@code isAttached}; {@link org.streams4j.StreamPipe}: a pipe pair.</li>
 * <li>{@link org.streams4j.Platform}: which backend and which native binding
 *     (JNA, or FFM downcalls on JDK 22+) this process uses.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * Blocking calls behave as the JDK's channels do: {@code close()} from any
 * thread wakes a thread blocked on the descriptor, an interrupt closes it and
 * ends the call ({@link org.streams4j.StreamInterruptedException}), and a
 * virtual thread (JDK 21+) parks while it waits and never holds its carrier,
 * so a server may give each connection a virtual thread of its own
 * ({@link org.streams4j.ConnldOptions.Builder#threadFactory}).
 *
 * <h2>Failures</h2>
 * Every failed call throws a {@link org.streams4j.StreamsException} (an
 * {@link java.io.IOException}) whose message names the operation, its path
 * or descriptor and the errno's name, e.g.
 * {@code fattach /run/x: EBUSY (already attached)}. Branch on
 * {@link org.streams4j.StreamsException#isNoServer()},
 * {@link org.streams4j.StreamsException#isPeerGone()} or
 * {@link org.streams4j.StreamsException#errnoName()};
 * {@link org.streams4j.StreamTimeoutException} is a time-out and
 * {@link org.streams4j.StreamClosedException} a descriptor closed under the
 * caller. A call the platform cannot make throws
 * {@link org.streams4j.UnsupportedPlatformException}.
 */
package org.streams4j;
