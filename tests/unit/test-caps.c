/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vh_pci_caps_parse over hand-made config-space images: MSI, MSI-X, PCIe,
 * SR-IOV, and hostile lists (loops, pointers past the end, short images).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"

#include "../../lib/pci.h"

static uint8_t cfg[4096];

static void put16(size_t off, unsigned v)
{
	cfg[off] = (uint8_t)v;
	cfg[off + 1] = (uint8_t)(v >> 8);
}

static void put32(size_t off, uint32_t v)
{
	put16(off, v & 0xffff);
	put16(off + 2, v >> 16);
}

/* A type 0 header with vendor/device and a capability list at @first. */
static void header(uint8_t type, uint8_t first)
{
	memset(cfg, 0, sizeof(cfg));
	put16(0x00, 0x17cb);
	put16(0x02, 0xa100);
	cfg[0x0e] = type;
	if (first) {
		put16(0x06, 0x0010); /* status: capabilities list */
		cfg[type == 2 ? 0x14 : 0x34] = first;
	}
}

static void cap(size_t pos, uint8_t id, uint8_t next, unsigned ctrl)
{
	cfg[pos] = id;
	cfg[pos + 1] = next;
	put16(pos + 2, ctrl);
}

static void parse_ok(size_t len, struct vh_pci_caps *c)
{
	memset(c, 0xa5, sizeof(*c));
	assert_int_equal(vh_pci_caps_parse(cfg, len, c), 0);
	assert_true(c->readable);
}

static void msi_vector_counts(void **state UNUSED)
{
	static const unsigned expect[] = {1, 2, 4, 8, 16, 32};

	for (unsigned mmc = 0; mmc < 6; mmc++) {
		struct vh_pci_caps c;
		header(0, 0x50);
		/* Multiple Message Capable is bits 3:1; set Multiple Message
		 * Enable (6:4) to something else to catch a wrong field. */
		cap(0x50, 0x05, 0x00, (mmc << 1) | (0u << 4));
		parse_ok(256, &c);
		assert_true(c.has_list);
		assert_int_equal(c.msi_vectors, expect[mmc]);
		assert_false(c.msi_64bit);
		assert_false(c.msi_maskable);
		assert_int_equal(c.msix_vectors, 0);
		assert_false(c.pcie);
	}
}

static void msi_enable_field_ignored(void **state UNUSED)
{
	struct vh_pci_caps c;

	header(0, 0x50);
	/* MMC = 1 vector, MME (bits 6:4) = 5, enable bit 0 set. */
	cap(0x50, 0x05, 0x00, (0u << 1) | (5u << 4) | 1u);
	parse_ok(256, &c);
	assert_int_equal(c.msi_vectors, 1);

	header(0, 0x50);
	cap(0x50, 0x05, 0x00, (4u << 1) | (0u << 4));
	parse_ok(256, &c);
	assert_int_equal(c.msi_vectors, 16);
}

static void msi_reserved_encodings_capped(void **state UNUSED)
{
	struct vh_pci_caps c;

	header(0, 0x50);
	cap(0x50, 0x05, 0x00, 6u << 1);
	parse_ok(256, &c);
	assert_int_equal(c.msi_vectors, 32);
	header(0, 0x50);
	cap(0x50, 0x05, 0x00, 7u << 1);
	parse_ok(256, &c);
	assert_int_equal(c.msi_vectors, 32);
}

static void msi_64bit_and_mask(void **state UNUSED)
{
	struct vh_pci_caps c;

	header(0, 0x50);
	cap(0x50, 0x05, 0x00, 0x0080 | (5u << 1));
	parse_ok(256, &c);
	assert_int_equal(c.msi_vectors, 32);
	assert_true(c.msi_64bit);
	assert_false(c.msi_maskable);

	header(0, 0x50);
	cap(0x50, 0x05, 0x00, 0x0100 | (3u << 1));
	parse_ok(256, &c);
	assert_int_equal(c.msi_vectors, 8);
	assert_false(c.msi_64bit);
	assert_true(c.msi_maskable);
}

static void msix_table_size(void **state UNUSED)
{
	static const unsigned sizes[] = {1, 2, 8, 64, 2048};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		struct vh_pci_caps c;
		header(0, 0x70);
		/* Table size is N-1 in bits 10:0; enable and mask bits set
		 * must not leak into the count. */
		cap(0x70, 0x11, 0x00, 0xc000 | (sizes[i] - 1));
		parse_ok(256, &c);
		assert_int_equal(c.msix_vectors, sizes[i]);
		assert_int_equal(c.msi_vectors, 0);
	}
}

static void chain_msi_msix_pcie(void **state UNUSED)
{
	struct vh_pci_caps c;

	header(0, 0x40);
	cap(0x40, 0x01, 0x50, 0x0003); /* power management */
	cap(0x50, 0x05, 0x70, 0x0080 | (4u << 1));
	cap(0x70, 0x11, 0x90, 15);
	cap(0x90, 0x10, 0xb0, (0u << 4) | 2); /* PCIe endpoint */
	cap(0xb0, 0x09, 0x00, 0);	      /* vendor specific */
	parse_ok(256, &c);
	assert_int_equal(c.msi_vectors, 16);
	assert_true(c.msi_64bit);
	assert_int_equal(c.msix_vectors, 16);
	assert_true(c.pcie);
	assert_int_equal(c.pcie_type, 0);
	assert_int_equal(c.header_type, 0);
	assert_false(c.sriov);
}

static void pcie_port_types(void **state UNUSED)
{
	for (unsigned t = 0; t < 16; t++) {
		struct vh_pci_caps c;
		header(0, 0x60);
		cap(0x60, 0x10, 0x00, (t << 4) | 2);
		parse_ok(256, &c);
		assert_true(c.pcie);
		assert_int_equal(c.pcie_type, t);
		/* Root port 4 .. PCI-to-PCIe bridge 8 are bridges. */
		assert_int_equal(vh_pcie_type_is_bridge(t), t >= 4 && t <= 8);
	}
}

/* A PCIe endpoint with SR-IOV at 0x100. */
static void sriov_image(unsigned next_ext)
{
	header(0, 0x80);
	cap(0x80, 0x10, 0x00, 2);
	put32(0x100, 0x0010u | (1u << 16) | (next_ext << 20));
	put16(0x10c, 16);     /* InitialVFs */
	put16(0x10e, 63);     /* TotalVFs */
	put16(0x110, 4);      /* NumVFs */
	put16(0x114, 0x80);   /* First VF Offset */
	put16(0x116, 2);      /* VF Stride */
	put16(0x11a, 0x56c1); /* VF Device ID */
}

static void sriov_fields(void **state UNUSED)
{
	struct vh_pci_caps c;

	sriov_image(0);
	parse_ok(4096, &c);
	assert_true(c.pcie);
	assert_true(c.ext_read);
	assert_true(c.sriov);
	assert_int_equal(c.sriov_initial, 16);
	assert_int_equal(c.sriov_total, 63);
	assert_int_equal(c.sriov_num, 4);
	assert_int_equal(c.sriov_offset, 0x80);
	assert_int_equal(c.sriov_stride, 2);
	assert_int_equal(c.sriov_vf_device, 0x56c1);
}

static void sriov_after_other_ext_cap(void **state UNUSED)
{
	struct vh_pci_caps c;

	header(0, 0x80);
	cap(0x80, 0x10, 0x00, 2);
	/* AER at 0x100 -> SR-IOV at 0x160. */
	put32(0x100, 0x0001u | (1u << 16) | (0x160u << 20));
	put32(0x160, 0x0010u | (1u << 16));
	put16(0x160 + 0x0e, 7);
	put16(0x160 + 0x1a, 0x1234);
	parse_ok(4096, &c);
	assert_true(c.sriov);
	assert_int_equal(c.sriov_total, 7);
	assert_int_equal(c.sriov_vf_device, 0x1234);
}

static void no_sriov_without_pcie(void **state UNUSED)
{
	struct vh_pci_caps c;

	/* Extended space belongs to PCIe functions only. */
	sriov_image(0);
	cfg[0x80] = 0x01; /* no longer a PCIe capability */
	parse_ok(4096, &c);
	assert_false(c.pcie);
	assert_false(c.sriov);
	assert_false(c.ext_read);
}

static void image_64_bytes(void **state UNUSED)
{
	struct vh_pci_caps c;

	sriov_image(0);
	cap(0x40, 0x05, 0x80, 5u << 1);
	put16(0x06, 0x0010);
	cfg[0x34] = 0x40;
	/* Only the header is visible: the list points past the end. */
	parse_ok(64, &c);
	assert_true(c.has_list);
	assert_false(c.ext_read);
	assert_false(c.sriov);
	assert_false(c.pcie);
	assert_int_equal(c.msi_vectors, 0);
}

static void image_256_bytes_no_ext(void **state UNUSED)
{
	struct vh_pci_caps c;

	sriov_image(0);
	parse_ok(256, &c);
	assert_true(c.pcie);
	assert_false(c.ext_read);
	assert_false(c.sriov);
}

static void short_image_rejected(void **state UNUSED)
{
	struct vh_pci_caps c = {.msi_vectors = 99};

	header(0, 0x50);
	assert_int_equal(vh_pci_caps_parse(cfg, 63, &c), -EBADMSG);
	assert_int_equal(vh_pci_caps_parse(cfg, 0, &c), -EBADMSG);
	assert_int_equal(vh_pci_caps_parse(cfg, 1, &c), -EBADMSG);
	/* ret untouched on failure */
	assert_int_equal(c.msi_vectors, 99);
}

static void no_cap_list_bit(void **state UNUSED)
{
	struct vh_pci_caps c;

	header(0, 0x50);
	cap(0x50, 0x05, 0x00, 5u << 1);
	put16(0x06, 0x0000); /* status says no list: ignore the pointer */
	parse_ok(256, &c);
	assert_false(c.has_list);
	assert_int_equal(c.msi_vectors, 0);
}

static void self_loop_terminates(void **state UNUSED)
{
	struct vh_pci_caps c;

	header(0, 0x50);
	cap(0x50, 0x05, 0x50, 3u << 1); /* points to itself */
	parse_ok(256, &c);
	assert_int_equal(c.msi_vectors, 8);
}

static void two_cap_loop_terminates(void **state UNUSED)
{
	struct vh_pci_caps c;

	header(0, 0x50);
	cap(0x50, 0x05, 0x60, 2u << 1);
	cap(0x60, 0x11, 0x50, 3);
	parse_ok(256, &c);
	assert_int_equal(c.msi_vectors, 4);
	assert_int_equal(c.msix_vectors, 4);
}

static void ext_loop_terminates(void **state UNUSED)
{
	struct vh_pci_caps c;

	sriov_image(0x100); /* next pointer back to itself */
	parse_ok(4096, &c);
	assert_true(c.sriov);
	assert_int_equal(c.sriov_total, 63);
}

static void pointer_past_end(void **state UNUSED)
{
	struct vh_pci_caps c;

	/* 0xfe in a 256-byte image: the header would straddle the end. */
	header(0, 0x50);
	cap(0x50, 0x05, 0xfe, 1u << 1);
	parse_ok(256, &c);
	assert_int_equal(c.msi_vectors, 2);

	/* 0xf0 in a 128-byte image. */
	header(0, 0x50);
	cap(0x50, 0x05, 0xf0, 1u << 1);
	memset(cfg + 128, 0x11, 256 - 128); /* would be MSI-X if read */
	parse_ok(128, &c);
	assert_int_equal(c.msi_vectors, 2);
	assert_int_equal(c.msix_vectors, 0);

	/* Extended pointer past a 4096 image: 0xffc is the last slot. */
	sriov_image(0xffc);
	put32(0xffc, 0x0001u);
	parse_ok(4096, &c);
	assert_true(c.sriov);

	/* SR-IOV header too close to the end of the image to hold the
	 * capability: not read. */
	header(0, 0x80);
	cap(0x80, 0x10, 0x00, 2);
	put32(0x100, 0x0001u | (1u << 16) | (0xff0u << 20));
	put32(0xff0, 0x0010u | (1u << 16));
	parse_ok(4096, &c);
	assert_false(c.sriov);
}

static void pointer_below_0x40_ends(void **state UNUSED)
{
	struct vh_pci_caps c;

	header(0, 0x50);
	cap(0x50, 0x05, 0x20, 1u << 1); /* into the header: end */
	cap(0x20, 0x11, 0x00, 7);
	parse_ok(256, &c);
	assert_int_equal(c.msi_vectors, 2);
	assert_int_equal(c.msix_vectors, 0);

	header(0, 0x10); /* first pointer inside the header */
	cap(0x10, 0x05, 0x00, 1u << 1);
	parse_ok(256, &c);
	assert_int_equal(c.msi_vectors, 0);
}

static void unaligned_pointer_masked(void **state UNUSED)
{
	struct vh_pci_caps c;

	header(0, 0x53); /* low two bits are reserved: 0x50 */
	cap(0x50, 0x11, 0x00, 31);
	parse_ok(256, &c);
	assert_int_equal(c.msix_vectors, 32);
}

static void bridge_header(void **state UNUSED)
{
	struct vh_pci_caps c;

	header(0x81, 0x60); /* type 1, multi-function bit set */
	cap(0x60, 0x10, 0x00, (4u << 4) | 2);
	parse_ok(256, &c);
	assert_int_equal(c.header_type, 1);
	assert_true(c.pcie);
	assert_int_equal(c.pcie_type, 4);
	assert_true(vh_pcie_type_is_bridge(c.pcie_type));

	/* vh_pci_dev_is_bridge goes by the header type when config was
	 * read, and by the class otherwise. */
	struct vh_pci_dev d = {.caps = c, .class = 0x120000};
	assert_true(vh_pci_dev_is_bridge(&d));
	d.caps.header_type = 0;
	assert_false(vh_pci_dev_is_bridge(&d));
	d.caps.readable = false;
	d.class = 0x060400;
	assert_true(vh_pci_dev_is_bridge(&d));
	d.class = 0x060900;
	assert_true(vh_pci_dev_is_bridge(&d));
	d.class = 0x030000;
	assert_false(vh_pci_dev_is_bridge(&d));

	/* Host and ISA/LPC bridges have header type 0: VFIO binds them, so
	 * they are chipset bridges, not bridges. */
	d.caps.readable = true;
	d.caps.header_type = 0;
	d.class = 0x060000;
	assert_false(vh_pci_dev_is_bridge(&d));
	assert_true(vh_pci_dev_is_chipset_bridge(&d));
	d.class = 0x060100;
	assert_true(vh_pci_dev_is_chipset_bridge(&d));
	d.class = 0x060400;
	assert_false(vh_pci_dev_is_chipset_bridge(&d));
	d.class = 0x068000;
	assert_false(vh_pci_dev_is_chipset_bridge(&d));
	d.class = 0x120000;
	assert_false(vh_pci_dev_is_chipset_bridge(&d));
}

static void cardbus_list_pointer(void **state UNUSED)
{
	struct vh_pci_caps c;

	header(2, 0x80);
	cap(0x80, 0x05, 0x00, 2u << 1);
	cfg[0x34] = 0x90; /* must not be used for type 2 */
	cap(0x90, 0x11, 0x00, 3);
	parse_ok(256, &c);
	assert_int_equal(c.header_type, 2);
	assert_int_equal(c.msi_vectors, 4);
	assert_int_equal(c.msix_vectors, 0);
}

static void all_ones_image(void **state UNUSED)
{
	struct vh_pci_caps c;

	/* A device that fell off the bus reads as all ones. */
	memset(cfg, 0xff, sizeof(cfg));
	parse_ok(4096, &c);
	assert_int_equal(c.header_type, 0x7f);
	assert_false(c.sriov);
}

static void random_images_stay_in_bounds(void **state UNUSED)
{
	uint32_t x = 0x12345678;

	/* Under ASan an out-of-bounds read of the heap copy would abort. */
	for (int round = 0; round < 2000; round++) {
		static const size_t lens[] = {64, 65, 100, 256, 260, 4096};
		size_t len = lens[round % 6];
		uint8_t *img = malloc(len);
		struct vh_pci_caps c;
		assert_non_null(img);
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			img[i] = (uint8_t)x;
		}
		img[0x06] |= 0x10;
		assert_int_equal(vh_pci_caps_parse(img, len, &c), 0);
		assert_true(c.msi_vectors <= 32);
		assert_true(c.msix_vectors <= 2048);
		assert_true(c.pcie_type < 16);
		free(img);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(msi_vector_counts),
	    cmocka_unit_test(msi_enable_field_ignored),
	    cmocka_unit_test(msi_reserved_encodings_capped),
	    cmocka_unit_test(msi_64bit_and_mask),
	    cmocka_unit_test(msix_table_size),
	    cmocka_unit_test(chain_msi_msix_pcie),
	    cmocka_unit_test(pcie_port_types),
	    cmocka_unit_test(sriov_fields),
	    cmocka_unit_test(sriov_after_other_ext_cap),
	    cmocka_unit_test(no_sriov_without_pcie),
	    cmocka_unit_test(image_64_bytes),
	    cmocka_unit_test(image_256_bytes_no_ext),
	    cmocka_unit_test(short_image_rejected),
	    cmocka_unit_test(no_cap_list_bit),
	    cmocka_unit_test(self_loop_terminates),
	    cmocka_unit_test(two_cap_loop_terminates),
	    cmocka_unit_test(ext_loop_terminates),
	    cmocka_unit_test(pointer_past_end),
	    cmocka_unit_test(pointer_below_0x40_ends),
	    cmocka_unit_test(unaligned_pointer_masked),
	    cmocka_unit_test(bridge_header),
	    cmocka_unit_test(cardbus_list_pointer),
	    cmocka_unit_test(all_ones_image),
	    cmocka_unit_test(random_images_stay_in_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
