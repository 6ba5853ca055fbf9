# Sourced, never run: finds the Java 17 or newer that a host's packages
# installed. POSIX sh (dash, bash, ksh93: illumos' /bin/sh), no `local`.
# Used by .ci/illumos-job (sourced), scripts/omnios-test and
# scripts/illumos-selftest (sent to the remote shell ahead of their commands)
# and, copied between the BEGIN and END lines (DistributionTest checks the
# copy is identical), by the distribution's bin/streamsctl.
#
# BEGIN s4j_find_jdk
# s4j_find_jdk TOOL: finds a Java 17 or newer whose bin/ holds java and TOOL
# (javac: a JDK, to build; java: a runtime, to run), in this order:
#   1. $JAVA_HOME, when it is an absolute path to one;
#   2. /usr/java (illumos: the package's mediated link, OmniOS
#      /usr/java -> jdk/openjdk17.0 -> instances/openjdk17.0; on OpenIndiana
#      it is openjdk8's, so its version is checked);
#   3. TOOL on the PATH (absolute entries only), its links followed
#      (/usr/bin/java -> ../java/bin/java on OmniOS,
#      -> ../jdk/instances/openjdk17.0.N/bin/java on OpenIndiana,
#      /etc/alternatives on Debian);
#   4. the newest of /usr/jdk/instances/* (openjdk17.0, openjdk21.0, ...).
# The version is JAVA_VERSION in the JDK's release file, else what its
# bin/java -version says (read by the shell alone: the PATH may hold no sed). Sets s4j_jdk to the directory (links resolved) and
# s4j_jdk_version to its feature version; returns 1, saying nothing, when
# there is none. S4J_JDK_ROOT, when set, is put before /usr/java and
# /usr/jdk (tests lay out fake roots there).
# shellcheck disable=SC2016,SC2034 # a literal $JAVA_HOME, for the callers' messages
s4j_jdk_where='$JAVA_HOME, /usr/java, the PATH, /usr/jdk/instances/*'
s4j_find_jdk() {
	s4j_jdk='' s4j_jdk_version=''
	_s4j_tool=${1:-java} _s4j_root=${S4J_JDK_ROOT:-}
	if s4j_jdk_at "${JAVA_HOME:-}" || s4j_jdk_at "$_s4j_root/usr/java"; then
		return 0
	fi
	# relative entries (".", "") name wherever this runs: left out
	_s4j_path='' _s4j_rest=${PATH:-}:
	while [ -n "$_s4j_rest" ]; do
		_s4j_e=${_s4j_rest%%:*} _s4j_rest=${_s4j_rest#*:}
		case $_s4j_e in /*) _s4j_path=$_s4j_path${_s4j_path:+:}$_s4j_e ;; esac
	done
	_s4j_p=$(s4j_lookup "$_s4j_path" "$_s4j_tool") || _s4j_p=''
	case $_s4j_p in
	/*)
		_s4j_p=$(s4j_follow "$_s4j_p") && s4j_jdk_at "${_s4j_p%/bin/*}" && return 0 ;;
	esac
	_s4j_best='' _s4j_bestv=0
	case $- in *f*) _s4j_noglob=1; set +f ;; *) _s4j_noglob= ;; esac
	for _s4j_c in "$_s4j_root"/usr/jdk/instances/*; do
		if s4j_jdk_at "$_s4j_c" && [ "$s4j_jdk_version" -gt "$_s4j_bestv" ]; then
			_s4j_best=$s4j_jdk _s4j_bestv=$s4j_jdk_version
		fi
	done
	[ -z "$_s4j_noglob" ] || set -f
	s4j_jdk=$_s4j_best s4j_jdk_version=''
	[ -n "$s4j_jdk" ] || return 1
	s4j_jdk_version=$_s4j_bestv
}
# s4j_lookup PATH TOOL: command -v TOOL on that PATH (it sets PATH: call it in $(...))
s4j_lookup() {
	PATH=$1
	command -v "$2" 2>/dev/null
}
# s4j_jdk_at DIR: DIR is an absolute path to a Java 17+ with bin/java and
# bin/$_s4j_tool; sets s4j_jdk and s4j_jdk_version.
s4j_jdk_at() {
	case $1 in /*) ;; *) return 1 ;; esac
	[ -f "$1/bin/java" ] && [ -x "$1/bin/java" ] && [ -f "$1/bin/$_s4j_tool" ] \
		&& [ -x "$1/bin/$_s4j_tool" ] || return 1
	_s4j_d=$(CDPATH='' cd -P -- "$1" >/dev/null 2>&1 && pwd -P) || return 1
	_s4j_v=''
	if [ -f "$_s4j_d/release" ]; then
		while IFS= read -r _s4j_l || [ -n "$_s4j_l" ]; do
			case $_s4j_l in JAVA_VERSION=*) _s4j_v=${_s4j_l#JAVA_VERSION=}; break ;; esac
		done <"$_s4j_d/release"
	fi
	if [ -z "$_s4j_v" ]; then
		# openjdk version "17.0.7" 2023-04-18
		_s4j_v=$("$_s4j_d/bin/java" -version 2>&1) || _s4j_v=''
		_s4j_v=${_s4j_v#*version }
	fi
	_s4j_v=${_s4j_v#\"}
	case $_s4j_v in 1.*) _s4j_v=${_s4j_v#1.} ;; esac
	_s4j_v=${_s4j_v%%[!0-9]*}
	case $_s4j_v in '' | *[!0-9]*) return 1 ;; esac
	[ "$_s4j_v" -ge 17 ] || return 1
	s4j_jdk=$_s4j_d s4j_jdk_version=$_s4j_v
}
# s4j_follow FILE: FILE (a path with a slash) with its chain of symbolic links
# followed, at most 40 of them; readlink(1), else `ls -ld` (older illumos).
s4j_follow() {
	_s4j_f=$1 _s4j_n=0
	while [ -L "$_s4j_f" ]; do
		_s4j_n=$((_s4j_n + 1))
		[ "$_s4j_n" -le 40 ] || return 1
		if command -v readlink >/dev/null 2>&1; then
			_s4j_l=$(readlink "$_s4j_f") || return 1
		else
			_s4j_l=$(ls -ld "$_s4j_f") || return 1
			_s4j_l=${_s4j_l#* -> }
		fi
		case $_s4j_l in
		/*) _s4j_f=$_s4j_l ;;
		*) _s4j_f=${_s4j_f%/*}/$_s4j_l ;;
		esac
	done
	printf '%s\n' "$_s4j_f"
}
# END s4j_find_jdk
