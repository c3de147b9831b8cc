/*
 * newer_minor.c — a fixture plugin that claims an ABI minor newer than the
 * SDK's: it may use host API entries this host lacks, so the host must
 * refuse it (naming both versions) before running any of its code.
 */
#include <vitals/plugin.h>

/* Never runs when the host checks the ABI first; says so if it does. */
static int newer_minor_init(vitals_plugin *p)
{
    vitals_api(p)->set_error(p, "init ran although the ABI minor is newer than the host's");
    return -1;
}

VITALS_EXPORT const vitals_plugin_info *vitals_plugin_entry(void);
VITALS_EXPORT const vitals_plugin_info *vitals_plugin_entry(void)
{
    static const vitals_plugin_info info = {
        .abi_major = VITALS_PLUGIN_ABI_MAJOR,
        .abi_minor = VITALS_PLUGIN_ABI_MINOR + 1,
        .struct_size = (uint32_t)sizeof(vitals_plugin_info),
        .name = "newer_minor",
        .version = "1.0",
        .description = "Fixture: ABI minor newer than the host's",
        .init = newer_minor_init,
    };
    return &info;
}
