/*
 * shim_internal.h: helpers the shim's C files share.  Not part of the ABI:
 * Java never calls them (streams4j.h is the whole ABI).
 */
#ifndef SHIM_INTERNAL_H
#define	SHIM_INTERNAL_H

/* S4J_POLL* bits to the platform's POLL* bits and back (common.c). */
short s4j_to_poll(int ev);
short s4j_from_poll(short rev);

#endif /* SHIM_INTERNAL_H */
