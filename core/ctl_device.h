/* rtcgatectl device add|set|enable|disable|remove|list: the device registry from the shell. */
#pragma once

/*
 * Run "device VERB ..." (argv[0] is "device") on the store of the config
 * file at config (NULL: defaults). Returns the exit status: 0 done, 1 the
 * operation failed (one line on stderr), 2 usage.
 */
int ctl_device_main(const char *config, int argc, char **argv);
