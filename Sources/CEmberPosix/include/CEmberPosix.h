#ifndef CEMBER_POSIX_H
#define CEMBER_POSIX_H

#include <spawn.h>

/// pipe2(fds, O_CLOEXEC | extra): both ends close-on-exec from the start, so a process spawned by
/// another thread meanwhile never inherits them (glibc declares pipe2 only under _GNU_SOURCE).
int cember_pipe_cloexec(int fds[2], int extra_flags);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+): the child closes every descriptor from
/// `from` up. Returns ENOSYS where the C library lacks it.
int cember_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

#endif
