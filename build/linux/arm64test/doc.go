// Package arm64test holds the test of the linux/arm64 build (Raspberry Pi OS 64-bit and other
// arm64 boxes): the packages of build/linux/nfpm-arm64.yaml, and the packaged binary run under
// qemu-user on this x86-64 machine, holding text and voice turns with the built-in demo content.
// It has no code of its own: `make arm64` builds the binary, build/linux/arm64-sysroot.sh
// extracts the Debian arm64 libraries it is built against and qemu runs it with.
package arm64test
