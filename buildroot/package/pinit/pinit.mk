################################################################################
#
# pinit
#
################################################################################

# The pinit source tree this external tree is part of (its Cargo.toml
# version: tests/pkg/dist checks they agree).
PINIT_VERSION = 0.1.0
PINIT_SITE = $(BR2_EXTERNAL_PINIT_PATH)/..
PINIT_SITE_METHOD = local
PINIT_LICENSE = MIT or Apache-2.0
PINIT_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude target --exclude fuzz --exclude tests/qemu

# Installed after busybox, so that /sbin/init is pinit's link.
PINIT_DEPENDENCIES = $(if $(BR2_PACKAGE_BUSYBOX),busybox)

# A local source is not vendored by the download step: vendor the crates
# of Cargo.lock once rsynced (into Buildroot's cargo home), and point
# cargo at them.
define PINIT_VENDOR_CRATES
	cd $(@D) && $(HOST_MAKE_ENV) $(PKG_CARGO_ENV) \
		cargo vendor --locked VENDOR >/dev/null
endef
PINIT_POST_RSYNC_HOOKS += PINIT_VENDOR_CRATES

PINIT_CARGO_BUILD_OPTS = \
	--config 'source.crates-io.replace-with="vendored-sources"' \
	--config 'source.vendored-sources.directory="VENDOR"'

# pinit's release profile where Buildroot's defaults would replace it:
# LTO and one codegen unit (a smaller binary). The per-target flags
# (static, no PIE) come from pinit's .cargo/config.toml.
PINIT_CARGO_ENV = \
	PINIT_BOARD=$(call qstrip,$(BR2_PACKAGE_PINIT_BOARD)) \
	CARGO_PROFILE_RELEASE_LTO=true \
	CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1

PINIT_BIN = $(@D)/target/$(RUSTC_TARGET_NAME)/$(if $(BR2_ENABLE_DEBUG),debug,release)/pinit
PINIT_BUSYBOX_LINKS = $(if $(BR2_PACKAGE_BUSYBOX),no,yes)

# pinit's own make install: /sbin/pinit, /sbin/init, /bin/pinit, the man
# pages; busybox keeps poweroff, reboot and halt; /etc/pinit.conf comes
# from the rootfs overlay.
define PINIT_INSTALL_TARGET_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) install DESTDIR=$(TARGET_DIR) \
		BIN=$(PINIT_BIN) CONF= \
		LINK_POWEROFF=$(PINIT_BUSYBOX_LINKS) \
		LINK_REBOOT=$(PINIT_BUSYBOX_LINKS) \
		LINK_HALT=$(PINIT_BUSYBOX_LINKS)
endef

$(eval $(cargo-package))
