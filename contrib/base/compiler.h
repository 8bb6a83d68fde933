/* compiler.h — attribute macros for compiler-checked contracts. */
#pragma once

#define SD_NONNULL(...)     __attribute__((nonnull(__VA_ARGS__)))
#define SD_WUR              __attribute__((warn_unused_result))
#define SD_PRINTF(fmt, arg) __attribute__((format(printf, fmt, arg)))
#define SD_NORETURN         __attribute__((noreturn))
#define SD_UNUSED           __attribute__((unused))
#define SD_LIKELY(x)        __builtin_expect(!!(x), 1)
#define SD_UNLIKELY(x)      __builtin_expect(!!(x), 0)
#define SD_NOINLINE         __attribute__((noinline))
#define SD_ARRAY_LEN(a)     (sizeof(a) / sizeof((a)[0]))
