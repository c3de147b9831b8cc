/*
 * wrong_abi.c — a fixture plugin built for ABI major 99, which the host must
 * refuse (naming both versions) before running any of its code.  The entry
 * function is written by hand, since the SDK macro always uses the SDK's ABI.
 */
#include <vitals/plugin.h>

/* Never runs when the host checks the ABI first; says so if it does. */
static int wrong_abi_init(vitals_plugin *p)
{
    vitals_api(p)->set_error(p, "init ran although the ABI major is 99");
    return -1;
}

VITALS_EXPORT const vitals_plugin_info *vitals_plugin_entry(void);
VITALS_EXPORT const vitals_plugin_info *vitals_plugin_entry(void)
{
    static const vitals_plugin_info info = {
        .abi_major = 99,
        .abi_minor = 0,
        .struct_size = (uint32_t)sizeof(vitals_plugin_info),
        .name = "wrong_abi",
        .version = "1.0",
        .description = "Fixture: ABI major 99",
        .init = wrong_abi_init,
    };
    return &info;
}
