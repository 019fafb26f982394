# vfio-hooks: plain GNU make.  See README.md.
#   make            build into build/
#   make check      unit and golden tests under ASan+UBSan (build/asan/)
#   make tsan       the hook's worker threads under ThreadSanitizer (build/tsan/)
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
# zsh reads the distribution's completions from vendor-completions (Debian)
# and a local administrator's from PREFIX/share/zsh/site-functions.
ZSHCOMPDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/share/zsh/vendor-completions,$(PREFIX)/share/zsh/site-functions)
# systemd's own unit directory for the system's prefix (/lib/systemd/system
# on Debian 12), else PREFIX's, which systemd also reads.
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),$(or $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null),/usr/lib/systemd/system),$(PREFIX)/lib/systemd/system)

BUILD ?= build
CC    ?= cc
PKG_CONFIG ?= pkg-config

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# ThreadSanitizer (TSAN=1, make tsan): the engine's worker threads.
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
ifeq ($(SAN),1)
  OPT := -O1 -g $(SAN_FLAGS)
  LDSAN := $(SAN_FLAGS)
else ifeq ($(TSAN),1)
  OPT := -O1 -g $(TSAN_FLAGS)
  LDSAN := $(TSAN_FLAGS)
else
  OPT ?= -O2 -g
endif

XML_CFLAGS  := $(shell $(PKG_CONFIG) --cflags libxml-2.0 2>/dev/null)
XML_LIBS    := $(shell $(PKG_CONFIG) --libs libxml-2.0 2>/dev/null)
UDEV_LIBS   := $(shell $(PKG_CONFIG) --libs libudev 2>/dev/null)
VIRT_CFLAGS := $(shell $(PKG_CONFIG) --cflags libvirt 2>/dev/null)
VIRT_LIBS   := $(shell $(PKG_CONFIG) --libs libvirt 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
# The soname to load: the one of the libxml2 the headers came with
# (libxml2.so.2 up to 2.13, libxml2.so.16 from 2.14 on), read from the
# development link, so that the ABI loaded is the ABI compiled against.
XML_SONAME := $(or $(shell objdump -p $(shell $(PKG_CONFIG) --variable=libdir libxml-2.0 2>/dev/null)/libxml2.so 2>/dev/null | awk '$$1 == "SONAME" { print $$2 }'),libxml2.so.2)

CFLAGS_ALL := -std=gnu11 -pthread $(OPT) -Wall -Wextra -Werror -Wshadow -Wformat=2 \
	-Wmissing-prototypes -Wstrict-prototypes -Wno-format-nonliteral -Wno-format-truncation \
	-D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIC \
	-DVH_VERSION='"$(VERSION)"' -DVH_DATADIR='"$(DATADIR)"' \
	-DVH_SYSCONFDIR='"$(SYSCONFDIR)"' -DVH_LIBEXECDIR='"$(LIBEXECDIR)/vfio-hooks"' \
	-DVH_BINDIR='"$(BINDIR)"' -DVH_XML_SONAME='"$(XML_SONAME)"' \
	$(XML_CFLAGS) $(CFLAGS)
# Relative relocations packed (DT_RELR) where the linker and C library
# can: the start-up of every PIE applies fewer of them.
RELR := $(shell printf 'int main(void){return 0;}' | $(CC) -Wl,-z,pack-relative-relocs -x c -o /dev/null - 2>/dev/null && echo -Wl,-z,pack-relative-relocs)
LDFLAGS_ALL := -pthread $(LDSAN) $(RELR) $(LDFLAGS)
# Every program is an ordinary dynamically linked PIE that links only libc
# (and libdl's interface, in libc since glibc 2.34).  libxml2 is not
# linked: the library loads the system's libxml2 (XML_SONAME) at the first parse
# (lib/xmlapi.c), so that Debian's security updates of libxml2 reach the
# programs, and a VM without passthrough or a QEMU command line without a
# vfio device does not pay for libxml2 (with ICU and the C++ runtime, about
# 3 ms a start: docs/bench).  libvirt and libudev are loaded likewise, by
# the CLI, when a command needs them (lib/dl.c).  `vfio-hooks doctor` names
# the libxml2 file loaded and its version.
XML_LINK := -ldl

LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB     := $(BUILD)/libvfiohooks.a

CLI_SRC := $(wildcard cli/*.c)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
CLI     := $(BUILD)/vfio-hooks

TEST_SUPPORT_SRC := tests/fakesys.c
TEST_SUPPORT_OBJ := $(TEST_SUPPORT_SRC:%.c=$(BUILD)/%.o)
# The unit tests' shared helpers (tests/unit/harness.h), linked into each.
UNIT_SUPPORT_OBJ := $(BUILD)/tests/unit/harness.o
UNIT_SRC  := $(wildcard tests/unit/test-*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# A stand-in for libvirt.so.0, for the CLI's hot-plug tests (tests/fakevirt.c).
FAKEVIRT  := $(BUILD)/tests/fakevirt/libvirt.so.0
TOOL_BIN  := $(BUILD)/tests/mkfakesys $(BUILD)/tests/qemu-hook-fk $(BUILD)/tests/vfio-hooks-fk \
	     $(FAKEVIRT)

# The hook: one program whose first steps answer the VMs without a PCI
# hostdev before anything else is read (hooks/fast.c): such a VM costs the
# start of a small dynamic program; libxml2 is loaded only when a domain
# must be parsed.
HOOK     := $(BUILD)/qemu-hook
# The hook and the CLI linked with the fake kernel, for tests only.
FK_OBJ   := $(BUILD)/tests/fakekernel.o
FK_AUTO  := $(BUILD)/tests/fk-auto.o
HOOK_FK  := $(BUILD)/tests/qemu-hook-fk
CLI_FK   := $(BUILD)/tests/vfio-hooks-fk

# The wrapper: one program that passes command lines without a vfio
# device straight to QEMU, and checks the others in-process.
WRAP     := $(BUILD)/vfio-qemu-wrapper

PROGS := $(CLI) $(HOOK) $(WRAP)
# The systemd message catalog, generated from lib/log.c's tables.
CATALOG  := $(BUILD)/vfio-hooks.catalog
# The boot unit (conf/vfio-hooks-bind.service.in) with BINDIR filled in.
UNIT  := $(BUILD)/vfio-hooks-bind.service

.PHONY: all bench fuzz install-files check check-deps check-run corpus corpus-run unit golden hooktest hostile soak tsan valgrind valgrind-run e2e install uninstall clean format format-check deb print-xml-soname
all: $(PROGS) $(CATALOG) $(UNIT)

$(UNIT): conf/vfio-hooks-bind.service.in Makefile
	@mkdir -p $(dir $@)
	sed 's|@BINDIR@|$(BINDIR)|g' $< >$@

$(BUILD)/%.o: %.c $(wildcard lib/*.h cli/*.h tests/*.h tests/unit/*.h) Makefile
	@mkdir -p $(dir $@)
	@echo "  CC  $@"; $(CC) $(CFLAGS_ALL) $(VIRT_CFLAGS) -c -o $@ $<

# The paths compiled in, recorded in $(BUILD)/paths (rewritten only when
# they change): the objects of the files that use them and the unit are
# rebuilt when PREFIX, DATADIR, ... change, and install-files refuses other
# paths than those built for.
BUILT_PATHS := DATADIR=$(DATADIR) SYSCONFDIR=$(SYSCONFDIR) LIBEXECDIR=$(LIBEXECDIR) BINDIR=$(BINDIR)
PATHS_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(shell grep -lE 'VH_(DATADIR|SYSCONFDIR|LIBEXECDIR|BINDIR)' */*.c tests/unit/*.c))
$(PATHS_OBJ) $(UNIT): $(BUILD)/paths
$(BUILD)/paths: FORCE
	@mkdir -p $(@D)
	@[ "$$(cat $@ 2>/dev/null)" = '$(BUILT_PATHS)' ] || echo '$(BUILT_PATHS)' >$@
FORCE:

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(CLI): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(XML_LINK)

$(HOOK): $(BUILD)/hooks/qemu-hook.o $(BUILD)/hooks/fast.o $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(XML_LINK)

$(WRAP): $(BUILD)/qemu-wrapper/vfio-qemu-wrapper.o $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(XML_LINK)

$(HOOK_FK): $(BUILD)/hooks/qemu-hook.o $(BUILD)/hooks/fast.o $(FK_AUTO) $(FK_OBJ) $(TEST_SUPPORT_OBJ) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(XML_LINK)

$(CLI_FK): $(CLI_OBJ) $(FK_AUTO) $(FK_OBJ) $(TEST_SUPPORT_OBJ) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(XML_LINK)

$(FAKEVIRT): tests/fakevirt.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(VIRT_CFLAGS) -fPIC -shared -Wl,-soname,libvirt.so.0 $(LDFLAGS_ALL) -o $@ $<

$(BUILD)/tests/test-%: $(BUILD)/tests/unit/test-%.o $(UNIT_SUPPORT_OBJ) $(TEST_SUPPORT_OBJ) $(FK_OBJ) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CMOCKA_LIBS) $(XML_LIBS) $(UDEV_LIBS)

$(BUILD)/tools/mkcatalog: $(BUILD)/tools/mkcatalog.o $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(XML_LINK)

$(CATALOG): $(BUILD)/tools/mkcatalog
	$(BUILD)/tools/mkcatalog >$@.tmp && mv $@.tmp $@

$(BUILD)/tests/mkfakesys: $(BUILD)/tests/mkfakesys.o $(TEST_SUPPORT_OBJ) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(XML_LIBS) $(UDEV_LIBS)

# The tests run against the sanitizer build, from the source tree's data;
# the release build's programs are checked for what they link (libc only).
# Where the compiler has ThreadSanitizer, the hook's worker threads run
# under it too (tests/hook/parallel.sh, QUICK=1: about a minute).
# A program built with it must also start: gcc 12's runtime refuses a
# kernel with vm.mmap_rnd_bits above 28 ("unexpected memory mapping").
TSAN_OK = $(shell t=$$(mktemp) && printf 'int main(void){return 0;}' | $(CC) -fsanitize=thread -x c -o "$$t" - 2>/dev/null && "$$t" >/dev/null 2>&1 && echo 1; rm -f "$$t")
check: check-deps
	$(MAKE) --no-print-directory all $(BUILD)/tests/mkfakesys $(BUILD)/tests/qemu-hook-fk
	@tsan="$(TSAN_OK)"; \
	if [ -n "$$tsan" ]; then \
	  $(MAKE) --no-print-directory BUILD=$(BUILD)/tsan TSAN=1 $(addprefix $(BUILD)/tsan/tests/,qemu-hook-fk mkfakesys vfio-hooks-fk) || exit 1; fi; \
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan SAN=1 RELEASE_BUILD=$(abspath $(BUILD)) \
	  TSAN_BUILD="$${tsan:+$(abspath $(BUILD)/tsan)}" check-run

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
	  RELEASE_BUILD=$(RELEASE_BUILD) TSAN_BUILD=$(TSAN_BUILD) tests/check.sh $(UNIT_BIN)

unit: $(UNIT_BIN) $(TOOL_BIN) $(PROGS)
	@VFIO_HOOKS_DATADIR=$(CURDIR)/xml SRCDIR=$(CURDIR) BUILD=$(BUILD) \
	  tests/run-unit.sh $(UNIT_BIN)

golden: $(PROGS) $(TOOL_BIN)
	@VFIO_HOOKS_DATADIR=$(CURDIR)/xml BUILD=$(BUILD) tests/golden/run.sh

hooktest: $(TOOL_BIN)
	@BUILD=$(BUILD) tests/hook/run.sh

# Hostile input through the hook and `vfio-hooks check` (also in check).
hostile: $(TOOL_BIN) $(PROGS)
	@BUILD=$(BUILD) tests/hostile/run.sh

# valgrind (not part of check): a plain -O1 -g build in build/vg, its unit
# tests and a subset of hook and CLI runs under valgrind.
valgrind:
	$(MAKE) --no-print-directory BUILD=build/vg OPT='-O1 -g' valgrind-run

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

# ThreadSanitizer: the hook, the CLI and mkfakesys on the fake kernel
# built with -fsanitize=thread in build/tsan, through the whole of
# tests/hook/parallel.sh (domains of several units: worker threads); a
# race report fails the run.  make check runs its QUICK part.
TSAN_DIR := build/tsan
tsan:
	$(MAKE) --no-print-directory BUILD=$(TSAN_DIR) TSAN=1 $(addprefix $(TSAN_DIR)/tests/,qemu-hook-fk mkfakesys vfio-hooks-fk)
	@BUILD=$(TSAN_DIR) TSAN_OPTIONS="halt_on_error=1 exitcode=66 $(TSAN_OPTIONS)" tests/hook/parallel.sh

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

# The libxml2 soname the build loads (debian/rules makes the package
# depend on the package that has it).
print-xml-soname:
	@echo $(XML_SONAME)

install: all
	@$(MAKE) --no-print-directory install-files

# Only copies what is built (install.sh --no-build, where no compiler is),
# for the paths it was built for.
install-files:
	@built=$$(cat $(BUILD)/paths 2>/dev/null); [ "$$built" = '$(BUILT_PATHS)' ] || { \
	  echo "make install-files: $(BUILD) was built for $${built:-paths it does not record}, but this install asks for $(BUILT_PATHS); 'make install' with these paths rebuilds for them" >&2; exit 1; }
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/profiles
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/vfio-hooks
	install -m 0755 $(WRAP) $(DESTDIR)$(BINDIR)/vfio-qemu-wrapper
	install -d $(DESTDIR)$(LIBEXECDIR)/vfio-hooks
	install -m 0755 $(HOOK) $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/qemu-hook
	@# What earlier versions installed beside: the separate engine (the
	@# hook is one program now), the static CLI's dynamically linked twin
	@# and the wrapper's checker (one program each now).
	rm -f $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/qemu-hook-engine
	rm -f $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/vfio-hooks-dl
	rm -f $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/vfio-qemu-wrapper-check
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
	@# journalctl reads /usr/local/lib/systemd/catalog and /usr/lib/systemd/catalog.
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/catalog
	install -m 0644 $(CATALOG) $(DESTDIR)$(PREFIX)/lib/systemd/catalog/vfio-hooks.catalog
	install -d $(DESTDIR)$(UNITDIR)
	install -m 0644 $(UNIT) $(DESTDIR)$(UNITDIR)/vfio-hooks-bind.service
	install -d $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0644 completion/_vfio-hooks $(DESTDIR)$(ZSHCOMPDIR)/_vfio-hooks
	install -m 0644 completion/vfio-hooks.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/vfio-hooks.fish
	@# An admin's edited configuration is never overwritten.
	test -e $(DESTDIR)$(SYSCONFDIR)/vfio-hooks.conf || \
	  install -m 0644 conf/vfio-hooks.conf $(DESTDIR)$(SYSCONFDIR)/vfio-hooks.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vfio-hooks $(DESTDIR)$(DATADIR)/profile.rng
	rm -f $(DESTDIR)$(BINDIR)/vfio-qemu-wrapper
	rm -f $(DESTDIR)$(DATADIR)/vfio-hooks.conf.example
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/vfio-hooks
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_vfio-hooks
	rm -f $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/vfio-hooks.fish
	rm -f $(DESTDIR)$(PREFIX)/lib/systemd/catalog/vfio-hooks.catalog
	rm -f $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/qemu-hook
	rm -f $(DESTDIR)$(UNITDIR)/vfio-hooks-bind.service
	rm -f $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/vfio-hooks-dl
	rm -f $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/qemu-hook-engine
	rm -f $(DESTDIR)$(LIBEXECDIR)/vfio-hooks/vfio-qemu-wrapper-check
	-rmdir $(DESTDIR)$(LIBEXECDIR)/vfio-hooks
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/profiles/,$(notdir $(wildcard xml/profiles/*.xml)))
	-rmdir $(DESTDIR)$(DATADIR)/profiles $(DESTDIR)$(DATADIR)

# The Debian package (debian/, built in build/dpkg): dpkg-buildpackage
# writes to the parent directory; the .deb, .buildinfo and .changes are
# moved to build/deb/.
deb:
	@v=$$(dpkg-parsechangelog -S Version) && [ "$$v" = "$(VERSION)" ] || \
	  { echo "make deb: debian/changelog's version ($$v) is not the Makefile's VERSION ($(VERSION))"; exit 1; }
	dpkg-buildpackage -b -us -uc
	@mkdir -p build/deb
	mv -f $(addprefix ../vfio-hooks_$(VERSION)_*.,deb buildinfo changes) build/deb/
	@for f in ../vfio-hooks-dbgsym_$(VERSION)_*.*deb; do [ ! -e "$$f" ] || mv -f "$$f" build/deb/; done
	@ls build/deb/vfio-hooks_$(VERSION)_*.deb

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
	clang-format -i lib/*.[ch] cli/*.[ch] hooks/*.c qemu-wrapper/*.c tools/*.c tests/*.[ch] tests/unit/*.[ch]

format-check:
	clang-format --dry-run --Werror lib/*.[ch] cli/*.[ch] hooks/*.c qemu-wrapper/*.c tools/*.c tests/*.[ch] tests/unit/*.[ch]

clean:
	rm -rf build
