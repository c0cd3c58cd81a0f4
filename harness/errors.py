"""Errors that are the user's to fix: printed as one line, exit code 2."""
import errno

# A write the disk refused: full, over quota, file too large, read-only, not permitted.
DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM)


class UserError(Exception):
    """Bad input or a missing prerequisite. The message says what to do."""

    exit_code = 2


class RunFailed(Exception):
    """A kernel launch failed on the device (timeout, error state). The run directory
    stays marked incomplete; the message names the likely cause."""

    exit_code = 1
