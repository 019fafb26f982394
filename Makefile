# vfio-hooks: plain GNU make.  See README.md.
#   make            build into build/
#   make check      unit and golden tests under ASan+UBSan (build/asan/)
#   make corpus     libvirt's own test corpus (tests/corpus/run.sh)
#   make e2e        end-to-end tests against real libvirtd and a real kernel
#   make install    DESTDIR=... PREFIX=/usr/local
VERSION    := 0.1
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
DATADIR    ?= $(PREFIX)/share/vfio-hooks
SYSCONFDIR ?= /etc/vfio-hooks
MANDIR     ?= $(PREFIX)/share/man

BUILD ?= build
CC    ?= cc
PKG_CONFIG ?= pkg-config

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ifeq ($(SAN),1)
  OPT := -O1 -g $(SAN_FLAGS)
  LDSAN := $(SAN_FLAGS)
else
  OPT ?= -O2 -g
endif

XML_CFLAGS  := $(shell $(PKG_CONFIG) --cflags libxml-2.0 2>/dev/null)
XML_LIBS    := $(shell $(PKG_CONFIG) --libs libxml-2.0 2>/dev/null)
UDEV_LIBS   := $(shell $(PKG_CONFIG) --libs libudev 2>/dev/null)
VIRT_CFLAGS := $(shell $(PKG_CONFIG) --cflags libvirt 2>/dev/null)
VIRT_LIBS   := $(shell $(PKG_CONFIG) --libs libvirt 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

CFLAGS_ALL := -std=gnu11 $(OPT) -Wall -Wextra -Werror -Wshadow -Wformat=2 \
	-Wmissing-prototypes -Wstrict-prototypes -Wno-format-nonliteral -Wno-format-truncation \
	-D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIC \
	-DVH_VERSION='"$(VERSION)"' -DVH_DATADIR='"$(DATADIR)"' \
	-DVH_SYSCONFDIR='"$(SYSCONFDIR)"' -DVH_LIBEXECDIR='"$(LIBEXECDIR)/vfio-hooks"' \
	-DVH_BINDIR='"$(BINDIR)"' \
	$(XML_CFLAGS) $(CFLAGS)
# Relative relocations packed (DT_RELR) where the linker and C library
# can: the start-up of every PIE applies fewer of them.
RELR := $(shell printf 'int main(void){return 0;}' | $(CC) -Wl,-z,pack-relative-relocs -x c -o /dev/null - 2>/dev/null && echo -Wl,-z,pack-relative-relocs)
LDFLAGS_ALL := $(LDSAN) $(RELR) $(LDFLAGS)
# The libc-only front ends (what libvirt runs for every VM, what a QEMU
# command line goes through) are linked statically: no dynamic loader, no
# relocations, measured 0.15-0.2 ms less per run (docs/bench).  Not under
# the sanitizers, whose runtimes are shared libraries.
ifeq ($(SAN),1)
  FRONT_LDFLAGS :=
else
  FRONT_LDFLAGS ?= -static
endif

# libxml2 inside the programs instead of loaded (where the distribution
# ships libxml2.a): loading libxml2.so brings ICU and the C++ runtime, and
# relocating them cost about 3 M instructions, twice a process start, in
# every hook run with a device (docs/bench).  lib/static/libxml2-trim.c
# leaves out the parts never used (HTTP/FTP fetching, ICU converters), so
# libxml2 needs only zlib and liblzma.  The hook and the wrapper's checker,
# which need nothing else, are then static programs (XMLPROG_*); the CLI
# keeps libc shared, for the libraries it loads on demand (libvirt,
# libudev).  XML_STATIC=0: all shared, as before.
# Decided by linking a program that parses a document that way: a
# libxml2.a that needs anything the trim does not cover keeps the shared
# library instead of failing the build.
ifeq ($(origin XML_STATIC),undefined)
  XML_STATIC := $(shell printf '\043include <libxml/parser.h>\nint main(void){xmlFreeDoc(xmlReadMemory("<a/>",4,0,0,XML_PARSE_NONET));return 0;}\n' | \
	$(CC) $(XML_CFLAGS) -o /dev/null lib/static/libxml2-trim.c -x c - \
	-Wl,-Bstatic -lxml2 -llzma -lz -Wl,-Bdynamic -lm >/dev/null 2>&1 && echo 1 || echo 0)
endif
# Static and position-independent where the C library can (rcrt1.o): the
# hook parses XML as root, so its code gets a random address like any PIE
# (measured ~0.1 ms a run for relocating itself; docs/bench).
STATIC_PIE := $(if $(filter /%,$(shell $(CC) -print-file-name=rcrt1.o 2>/dev/null)),-static-pie,-static)
ifeq ($(XML_STATIC),1)
  TRIM_OBJ := $(BUILD)/lib/static/libxml2-trim.o
  XML_LINK := $(TRIM_OBJ) -Wl,-Bstatic -lxml2 -llzma -lz -Wl,-Bdynamic -lm
  XMLPROG_LDFLAGS := $(if $(FRONT_LDFLAGS),$(STATIC_PIE))
  ifneq ($(XMLPROG_LDFLAGS),)
    XMLPROG_LINK := $(TRIM_OBJ) -lxml2 -llzma -lz -lm
  else
    XMLPROG_LINK := $(XML_LINK)
  endif
else
  TRIM_OBJ :=
  XML_LINK := $(XML_LIBS)
  XMLPROG_LDFLAGS :=
  XMLPROG_LINK := $(XML_LIBS)
endif

LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB     := $(BUILD)/libvfiohooks.a

CLI_SRC := $(filter-out cli/twin.c,$(wildcard cli/*.c))
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
CLI     := $(BUILD)/vfio-hooks
# Where the hook is static, the CLI is too, with its dynamically linked
# twin for what needs libvirt or libudev (cli/twin.c); else one dynamic
# program.
ifneq ($(XMLPROG_LDFLAGS),)
  CLI_DL := $(BUILD)/vfio-hooks-dl
else
  CLI_DL :=
endif

TEST_SUPPORT_SRC := tests/fakesys.c
TEST_SUPPORT_OBJ := $(TEST_SUPPORT_SRC:%.c=$(BUILD)/%.o)
# The unit tests' shared helpers (tests/unit/harness.h), linked into each.
UNIT_SUPPORT_OBJ := $(BUILD)/tests/unit/harness.o
UNIT_SRC  := $(wildcard tests/unit/test-*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_BIN  := $(BUILD)/tests/mkfakesys $(BUILD)/tests/qemu-hook-fk $(BUILD)/tests/vfio-hooks-fk

# The hook: one program, static where libxml2.a is (XML_STATIC), whose
# first steps answer the VMs without a PCI hostdev before anything else is
# read: a VM without work costs about 0.1 ms more than a libc-only front
# end would (mostly the relocation of a static PIE), a VM with work one
# exec (~0.4 ms) less (docs/bench).
HOOK     := $(BUILD)/qemu-hook
# The hook and the CLI linked with the fake kernel, for tests only.
FK_OBJ   := $(BUILD)/tests/fakekernel.o
FK_AUTO  := $(BUILD)/tests/fk-auto.o
HOOK_FK  := $(BUILD)/tests/qemu-hook-fk
CLI_FK   := $(BUILD)/tests/vfio-hooks-fk

# The wrapper likewise: a libc-only front end that passes command lines
# without a vfio device straight to QEMU, and the checker.
WRAP     := $(BUILD)/vfio-qemu-wrapper
WRAPCHK  := $(BUILD)/vfio-qemu-wrapper-check

PROGS := $(CLI) $(CLI_DL) $(HOOK) $(WRAP) $(WRAPCHK)

.PHONY: all bench fuzz install-files check check-deps check-run corpus corpus-run unit golden hooktest hostile soak valgrind valgrind-run e2e install uninstall clean format format-check
all: $(PROGS)

$(BUILD)/%.o: %.c $(wildcard lib/*.h cli/*.h tests/*.h tests/unit/*.h) Makefile
	@mkdir -p $(dir $@)
	@echo "  CC  $@"; $(CC) $(CFLAGS_ALL) $(VIRT_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

ifneq ($(CLI_DL),)
$(CLI): $(CLI_OBJ) $(BUILD)/cli/twin.o $(LIB) $(TRIM_OBJ)
	$(CC) $(LDFLAGS_ALL) $(XMLPROG_LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/cli/twin.o $(LIB) $(XMLPROG_LINK)

$(CLI_DL): $(CLI_OBJ) $(LIB) $(TRIM_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(LIB) $(XML_LINK) -ldl
else
# One dynamic program: a twin left by an earlier static build goes, so
# that install-files does not install it.
$(CLI): $(CLI_OBJ) $(LIB) $(TRIM_OBJ)
	@rm -f $(BUILD)/vfio-hooks-dl
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(LIB) $(XML_LINK) -ldl
endif

$(HOOK): $(BUILD)/hooks/qemu-hook.o $(BUILD)/hooks/fast.o $(LIB) $(TRIM_OBJ)
	$(CC) $(LDFLAGS_ALL) $(XMLPROG_LDFLAGS) -o $@ $(filter-out $(TRIM_OBJ),$^) $(XMLPROG_LINK)

$(BUILD)/qemu-wrapper/front.o: qemu-wrapper/vfio-qemu-wrapper.c $(wildcard lib/*.h) Makefile
	@mkdir -p $(dir $@)
	@echo "  CC  $@"; $(CC) $(CFLAGS_ALL) -DVH_WRAPPER_FRONT -c -o $@ $<

$(WRAP): $(BUILD)/qemu-wrapper/front.o $(LIB)
	$(CC) $(LDFLAGS_ALL) $(FRONT_LDFLAGS) -o $@ $^

$(WRAPCHK): $(BUILD)/qemu-wrapper/vfio-qemu-wrapper.o $(LIB) $(TRIM_OBJ)
	$(CC) $(LDFLAGS_ALL) $(XMLPROG_LDFLAGS) -o $@ $(filter-out $(TRIM_OBJ),$^) $(XMLPROG_LINK)

$(HOOK_FK): $(BUILD)/hooks/qemu-hook.o $(BUILD)/hooks/fast.o $(FK_AUTO) $(FK_OBJ) $(TEST_SUPPORT_OBJ) $(LIB) $(TRIM_OBJ)
	$(CC) $(LDFLAGS_ALL) $(XMLPROG_LDFLAGS) -o $@ $(filter-out $(TRIM_OBJ),$^) $(XMLPROG_LINK)

$(CLI_FK): $(CLI_OBJ) $(FK_AUTO) $(FK_OBJ) $(TEST_SUPPORT_OBJ) $(LIB) $(TRIM_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter-out $(TRIM_OBJ),$^) $(XML_LINK) -ldl

$(BUILD)/tests/test-%: $(BUILD)/tests/unit/test-%.o $(UNIT_SUPPORT_OBJ) $(TEST_SUPPORT_OBJ) $(FK_OBJ) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CMOCKA_LIBS) $(XML_LIBS) $(UDEV_LIBS)

# A stand-in libudev that names every device by its IDs (golden tests).
FAKEUDEV := $(BUILD)/tests/fakeudev/libudev.so.1
$(FAKEUDEV): tests/fakeudev.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fPIC -shared -Wl,-soname,libudev.so.1 -o $@ $<

$(BUILD)/tests/mkfakesys: $(BUILD)/tests/mkfakesys.o $(TEST_SUPPORT_OBJ) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(XML_LIBS) $(UDEV_LIBS)

# The tests run against the sanitizer build, from the source tree's data.
# The release programs too: the static CLI is compared with its twin.
check: check-deps
	$(MAKE) --no-print-directory all $(BUILD)/tests/mkfakesys $(FAKEUDEV)
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan SAN=1 RELEASE_BUILD=$(abspath $(BUILD)) check-run

# What the tests need beyond the build, said once, before anything builds.
check-deps:
	@missing=""; \
	$(PKG_CONFIG) --exists cmocka 2>/dev/null || missing="$$missing cmocka (libcmocka-dev)"; \
	command -v python3 >/dev/null || missing="$$missing python3"; \
	command -v qemu-system-x86_64 >/dev/null || missing="$$missing QEMU (qemu-system-x86)"; \
	if [ -n "$$missing" ]; then \
	  echo "make check needs:$$missing; 'sudo ./install.sh --deps-only' installs them"; exit 1; fi

check-run: $(UNIT_BIN) $(TOOL_BIN) $(PROGS)
	@VFIO_HOOKS_DATADIR=$(CURDIR)/xml SRCDIR=$(CURDIR) BUILD=$(BUILD) \
	  RELEASE_BUILD=$(RELEASE_BUILD) tests/check.sh $(UNIT_BIN)

unit: $(UNIT_BIN) $(TOOL_BIN) $(PROGS)
	@VFIO_HOOKS_DATADIR=$(CURDIR)/xml SRCDIR=$(CURDIR) BUILD=$(BUILD) \
	  tests/run-unit.sh $(UNIT_BIN)

golden: $(PROGS) $(TOOL_BIN) $(if $(CLI_DL),$(FAKEUDEV))
	@VFIO_HOOKS_DATADIR=$(CURDIR)/xml BUILD=$(BUILD) tests/golden/run.sh

hooktest: $(TOOL_BIN)
	@BUILD=$(BUILD) tests/hook/run.sh

# Hostile input through the hook and `vfio-hooks check` (also in check).
hostile: $(TOOL_BIN) $(PROGS)
	@BUILD=$(BUILD) tests/hostile/run.sh

# valgrind (not part of check): a plain -O1 -g build in build/vg, its unit
# tests and a subset of hook and CLI runs under valgrind.  The front ends
# are linked dynamically there: valgrind reports static glibc's start-up
# code itself (uninitialised TLS and malloc state before main).
valgrind:
	$(MAKE) --no-print-directory BUILD=build/vg OPT='-O1 -g' FRONT_LDFLAGS= valgrind-run

valgrind-run: $(UNIT_BIN) $(TOOL_BIN) $(PROGS)
	@BUILD=$(BUILD) tests/valgrind/run.sh $(UNIT_BIN)

# Concurrency soak (not part of check): SOAK_DOMAINS domains in parallel,
# SOAK_CYCLES cycles each, on the sanitizer build (fd check on build/vg).
SOAK_DOMAINS ?= 16
SOAK_CYCLES ?= 100
soak:
	$(MAKE) --no-print-directory BUILD=build/asan SAN=1 $(addprefix build/asan/,tests/qemu-hook-fk tests/mkfakesys)
	-$(MAKE) --no-print-directory BUILD=build/vg OPT='-O1 -g' build/vg/tests/qemu-hook-fk
	@BUILD=build/asan VG_BUILD=build/vg SOAK_DOMAINS=$(SOAK_DOMAINS) SOAK_CYCLES=$(SOAK_CYCLES) tests/soak/run.sh

# Benchmarks (not part of check): optimised build, fake sysroots, the shell
# baseline, the real-kernel guest; the report goes to docs/bench/.
bench: all $(BUILD)/tests/qemu-hook-fk $(BUILD)/tests/mkfakesys
	bench/run.sh

# libvirt's own test corpus (not part of check: it fetches Debian's libvirt
# source package once, then runs from its cache; CI runs it): the sanitizer
# build against every libvirt test domain with a PCI hostdev, a vIOMMU or an
# I/O APIC, and the command line libvirt generates for it.
corpus: check-deps
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan SAN=1 corpus-run

corpus-run: $(PROGS) $(BUILD)/tests/mkfakesys $(BUILD)/tests/qemu-hook-fk
	@BUILD=$(BUILD) tests/corpus/run.sh

e2e: all $(BUILD)/tests/mkfakesys
	tests/e2e/run.sh

install: all install-files

# Only copies what is built (install.sh --no-build, where no compiler is).
install-files:
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/profiles
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/vfio-hooks
	install -m 0755 $(WRAP) $(DESTDIR)$(BINDIR)/vfio-qemu-wrapper
	install -d $(DESTDIR)$(LIBEXECDIR)/vfio-hooks
	install -m 0755 $(HOOK) $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/qemu-hook
	@# The static CLI's dynamically linked twin, when built (install.sh
	@# --no-build has no compiler to tell whether it would be).
	if [ -x $(BUILD)/vfio-hooks-dl ]; then \
	  install -m 0755 $(BUILD)/vfio-hooks-dl $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/vfio-hooks-dl; \
	else rm -f $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/vfio-hooks-dl; fi
	@# The separate engine of earlier versions (the hook is one program now).
	rm -f $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/qemu-hook-engine
	install -m 0755 $(WRAPCHK) $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/vfio-qemu-wrapper-check
	install -m 0644 xml/profile.rng $(DESTDIR)$(DATADIR)/profile.rng
	install -m 0644 xml/profiles/*.xml $(DESTDIR)$(DATADIR)/profiles/
	install -m 0644 conf/vfio-hooks.conf $(DESTDIR)$(DATADIR)/vfio-hooks.conf.example
	install -d $(DESTDIR)$(SYSCONFDIR)/profiles.d
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 man/vfio-qemu-wrapper.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/vfio-hooks.conf.5 man/vfio-hooks-profile.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/vfio-hooks.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0644 completion/vfio-hooks.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/vfio-hooks
	@# An admin's edited configuration is never overwritten.
	test -e $(DESTDIR)$(SYSCONFDIR)/vfio-hooks.conf || \
	  install -m 0644 conf/vfio-hooks.conf $(DESTDIR)$(SYSCONFDIR)/vfio-hooks.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vfio-hooks $(DESTDIR)$(DATADIR)/profile.rng
	rm -f $(DESTDIR)$(BINDIR)/vfio-qemu-wrapper
	rm -f $(DESTDIR)$(DATADIR)/vfio-hooks.conf.example
	rm -f $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/qemu-hook
	rm -f $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/vfio-hooks-dl
	rm -f $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/qemu-hook-engine
	rm -f $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/vfio-qemu-wrapper-check
	-rmdir $(DESTDIR)$(LIBEXECDIR)/vfio-hooks
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/profiles/,$(notdir $(wildcard xml/profiles/*.xml)))
	-rmdir $(DESTDIR)$(DATADIR)/profiles $(DESTDIR)$(DATADIR)

# Fuzzing with libFuzzer (clang; ASan+UBSan): make fuzz FUZZ_SECONDS=N runs
# every target for N seconds from its seed corpus (the test inputs).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := domain qemu config journal profile
FUZZ_SRC := $(LIB_SRC) tests/fakesys.c
fuzz:
	@mkdir -p build/fuzz
	@for t in $(FUZZ_TARGETS); do \
	  clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	    -DVH_DATADIR='"$(CURDIR)/xml"' -DVH_SYSCONFDIR='"/etc/vfio-hooks"' \
	    $(XML_CFLAGS) -o build/fuzz/fuzz-$$t fuzz/fuzz-$$t.c $(FUZZ_SRC) \
	    $(XML_LIBS) $(UDEV_LIBS) || exit 1; \
	done
	@fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

format:
	clang-format -i lib/*.[ch] lib/static/*.c cli/*.[ch] hooks/*.c qemu-wrapper/*.c tests/*.[ch] tests/unit/*.[ch]

format-check:
	clang-format --dry-run --Werror lib/*.[ch] lib/static/*.c cli/*.[ch] hooks/*.c qemu-wrapper/*.c tests/*.[ch] tests/unit/*.[ch]

clean:
	rm -rf build
