package org.streams4j.internal;

import com.sun.jna.Native;

/** The STREAMS-only calls; registered only where the shim carries them (illumos, Solaris). */
public final class StreamsShim {
    static {
        Native.register(StreamsShim.class, NativeLibrary.NAME);
    }

    private StreamsShim() {
    }

    public static native int s4j_isastream(int fd);

    public static native int s4j_push(int fd, String module);

    public static native int s4j_pop(int fd);

    public static native int s4j_look(int fd, byte[] name, int len);

    public static native int s4j_find(int fd, String module);

    public static native int s4j_list(int fd, byte[] names, int count);

    public static native int s4j_fattach(int fd, String path);

    public static native int s4j_fdetach(String path);

    public static native int s4j_fstype(String path, byte[] name, int len);

    // ---- messages (issue 25): native addresses as longs, shim values as in streams4j.h

    public static final int MSG_CTL = 0;
    public static final int MSG_DATA = 1;
    public static final int MSG_BANDNO = 2;
    public static final int MSG_FLAGS = 3;
    public static final int MSG_ANY = 0x01;
    public static final int MSG_BAND = 0x02;
    public static final int MSG_HIPRI = 0x04;
    public static final int MORECTL = 0x01;
    public static final int MOREDATA = 0x02;
    public static final int RNORM = 0;
    public static final int RMSGD = 1;
    public static final int RMSGN = 2;
    public static final int RPROTNORM = 0;
    public static final int RPROTDAT = 1;
    public static final int RPROTDIS = 2;
    public static final int SNDZERO = 0x01;
    public static final int SNDPIPE = 0x02;
    public static final int FLUSHR = 0x01;
    public static final int FLUSHW = 0x02;
    public static final int ANYMARK = 0x01;
    public static final int LASTMARK = 0x02;

    public static native int s4j_getmsg(int fd, long ctl, long data, long io);

    public static native int s4j_putmsg(int fd, long ctl, int ctllen, long data, int datalen, int band, int flags);

    public static native int s4j_peekmsg(int fd, long ctl, long data, long io);

    public static native int s4j_nread_msgs(int fd, long size);

    public static native int s4j_set_read_opt(int fd, int mode, int prot);

    public static native int s4j_get_read_opt(int fd, long out);

    public static native int s4j_set_write_opt(int fd, int bits);

    public static native int s4j_get_write_opt(int fd);

    public static native int s4j_flush(int fd, int which, int band);

    public static native int s4j_canput(int fd, int band);

    public static native int s4j_ckband(int fd, int band);

    public static native int s4j_getband(int fd);

    public static native int s4j_atmark(int fd, int which);

    public static native int s4j_get_cltime(int fd);

    public static native int s4j_set_cltime(int fd, int ms);

    public static native int s4j_str_ioctl(int fd, int cmd, long buf, int inlen, int cap, int timeoutS, long outlen);
}
