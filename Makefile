# Alveo U280 benchmark harness. `make help` lists every target and variable.
#
# Kernel build facts (data types, burst lengths, CU counts, banks) live only in
# kernels/designs/*.toml; this Makefile reads them through `python -m harness.designs`.

SHELL      := /bin/bash
PYTHON     ?= python3
VENV       ?= .venv
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.installed

# ---- Vitis build variables -------------------------------------------------
TARGET     ?= hw
PLATFORM   ?= xilinx_u280_gen3x16_xdma_1_202211_1
FREQ_MHZ   ?=
DESIGN     ?= all
XSA        := $(basename $(notdir $(PLATFORM)))
BUILD      := build/$(TARGET).$(XSA)
TEMP       := build/_x.$(TARGET).$(XSA)
VPP        ?= v++
VPP_FLAGS  ?=
ifneq ($(TARGET),hw)
VPP_DEBUG  := -g
endif
# hw_emu: device profiling monitors, so the harness can read each launch's simulated time.
ifeq ($(TARGET),hw_emu)
VPP_PROFILE := --profile.data all:all:all
endif
# The design files are read with the .venv interpreter when it exists (it has tomli on 3.10).
DESIGN_PY  = PYTHONPATH=$(CURDIR) $(if $(wildcard $(PY)),$(PY),$(PYTHON)) -m harness.designs

.DEFAULT_GOAL := help
.PHONY: help install emu demo test bench xclbin emconfig report check-vitis check-xrt check-target check-toolchain \
        check-budget clean distclean

help:
	@echo "Alveo U280 benchmark harness"
	@echo
	@echo "Start here (no card needed):"
	@echo "  make demo        set up .venv, build the emulated kernels, run short emulated memcpy, GEMM,"
	@echo "                   latency and host-transfer runs, draw the smolVLA roofline from them and"
	@echo "                   print where the plot and report are"
	@echo "  make test        set up .venv and run the test suite"
	@echo "  make bench       the harness's own speed figures (emulator, builds, start-up, make demo/test)"
	@echo
	@echo "Other targets:"
	@echo "  make install     create .venv and install the harness with its test dependencies"
	@echo "  make emu         build every design natively with g++ for the emulator (build/emu/)"
	@echo "  make xclbin      build xclbins with v++ for TARGET on PLATFORM (needs Vitis 2023.2 or older and XRT);"
	@echo "                   first checks the Vitis release and each design's per-SLR resource budget"
	@echo "  make emconfig    write emconfig.json for TARGET=hw_emu|sw_emu (emconfigutil)"
	@echo "  make report      print what a build's reports say: loop II, m_axi bursts, resources per SLR,"
	@echo "                   achieved clock (TARGET, DESIGN, PLATFORM as for make xclbin)"
	@echo "  make clean       remove build/ (keeps .venv and results/)"
	@echo "  make distclean   also remove .venv"
	@echo
	@echo "Variables:"
	@echo "  TARGET=$(TARGET)        hw | hw_emu | sw_emu"
	@echo "  PLATFORM=$(PLATFORM)   platform name or .xpfm path"
	@echo "  DESIGN=$(DESIGN)        all, or one of: memcpy gemm_fp32 gemm_fp16 gemm_fx16 gemm_int8"
	@echo "  FREQ_MHZ=$(if $(FREQ_MHZ),$(FREQ_MHZ),<from the design file, 300>)   kernel clock (v++ --kernel_frequency)"
	@echo "  PYTHON=$(PYTHON)     interpreter used to create .venv (3.10 or newer)"
	@echo "  VPP_FLAGS=        extra v++ flags (e.g. --profile.data all:all:all)"
	@echo "Outputs: build/<TARGET>.<platform basename>/<design>.xclbin; temporary files in build/_x.<TARGET>.<platform>/"

# ---- Python environment ----------------------------------------------------
# The environment is always made by $(PYTHON) (so a binding built for that Python, such as
# XRT's pyxrt, imports in it). Packages go in with uv when it can be installed from the
# package index (much faster), with pip otherwise.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "error: Python 3.10 or newer is needed; run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	@if $(VENV)/bin/pip install --quiet --disable-pip-version-check uv 2>/dev/null && \
	    $(VENV)/bin/uv pip install --quiet --python $(VENV)/bin/python -e '.[test]'; then \
	  echo "installed with uv"; \
	else \
	  echo "uv not available from the package index: installing with pip"; \
	  $(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'; \
	fi
	@touch $@

install: $(STAMP)

emu: $(STAMP)
	$(PY) -m harness.designs budget hw
	$(PY) -m harness.designs.native

demo: $(STAMP)
	$(PY) -m harness demo

test: $(STAMP)
	$(PY) -m pytest

# Speed figures of the harness itself, printed with the machine (tests/benchmark.py --help).
bench: $(STAMP)
	$(PY) tests/benchmark.py $(BENCH_ARGS)

# ---- Vitis / XRT: kernels for the card -------------------------------------
check-vitis:
	@command -v $(VPP) >/dev/null 2>&1 || { echo "error: v++ not found: source <Vitis install>/settings64.sh (e.g. /tools/Xilinx/Vitis/2023.1/settings64.sh)" >&2; exit 2; }
	@test -n "$$XILINX_VITIS" || { echo "error: XILINX_VITIS is not set: source <Vitis install>/settings64.sh" >&2; exit 2; }

check-xrt:
	@test -n "$$XILINX_XRT" || { echo "error: XILINX_XRT is not set: source /opt/xilinx/xrt/setup.sh" >&2; exit 2; }

check-target:
	@case "$(TARGET)" in hw|hw_emu|sw_emu) ;; *) echo "error: TARGET=$(TARGET): use hw, hw_emu or sw_emu" >&2; exit 2;; esac

# Recipe steps, so `make -n xclbin` prints them with the rest of the flow: the Vitis release
# (`v++ --version`: the U280 needs 2023.2 or older; sw_emu is gone from 2025.1) and each
# selected design's resources per SLR against what the platform leaves to kernels.
check-toolchain:
	$(DESIGN_PY) toolchain $(TARGET) $(VPP) $(PLATFORM)

check-budget:
	$(DESIGN_PY) budget $(TARGET) $(SELECTED)

# The design facts as make variables for this TARGET (hw_emu/sw_emu build each design's
# [emulation] variant), generated from kernels/designs/*.toml.
ifneq ($(filter xclbin emconfig report build/%,$(MAKECMDGOALS)),)
ifeq ($(filter hw hw_emu sw_emu,$(TARGET)),)
$(error TARGET=$(TARGET): use hw, hw_emu or sw_emu)
endif
build/designs.$(TARGET).mk: $(wildcard kernels/designs/*.toml) $(wildcard harness/designs/*.py)
	@mkdir -p $(@D)
	@$(DESIGN_PY) mk $(TARGET) > $@.tmp && mv $@.tmp $@
include build/designs.$(TARGET).mk
# (DESIGNS is empty on make's first pass, before it has generated the fragment)
ifneq ($(DESIGNS),)
ifeq ($(filter all $(DESIGNS),$(DESIGN)),)
$(error DESIGN=$(DESIGN) is not a design; use all or one of: $(DESIGNS))
endif
endif
endif

SELECTED := $(if $(filter all,$(DESIGN)),$(DESIGNS),$(DESIGN))
freq = $(if $(FREQ_MHZ),$(FREQ_MHZ),$(DESIGN_$(1)_FREQ_MHZ))

# One .xo per kernel per design: v++ -c with that kernel's -D flags, synthesised for the
# kernel clock (--hls.clock in Hz; FREQ_MHZ must be a whole number of MHz).
define KERNEL_RULE
$(TEMP)/$(1)/$(2).xo: $$(DESIGN_$(1)_$(2)_SRC) $$(wildcard kernels/common/*.h $$(dir $$(DESIGN_$(1)_$(2)_SRC))*.h) $$(DESIGN_$(1)_FILE) | check-target check-vitis check-xrt check-toolchain check-budget
	@mkdir -p $$(@D)
	$(VPP) -c -t $(TARGET) --platform $(PLATFORM) -k $(2) --hls.clock $(call freq,$(1))000000:$(2) $(VPP_DEBUG) $(VPP_FLAGS) --temp_dir $(TEMP)/$(1) -Ikernels/common $$(DESIGN_$(1)_$(2)_DEFS) -o $$@ $$<
endef

# Link with the connectivity file rendered from the design, then package.
define DESIGN_RULE
$(BUILD)/$(1).cfg: $$(DESIGN_$(1)_FILE) harness/designs/files.py
	@mkdir -p $$(@D)
	$(DESIGN_PY) cfg $(1) $(TARGET) > $$@.tmp && mv $$@.tmp $$@
$(BUILD)/$(1).xclbin: $(foreach k,$(DESIGN_$(1)_KERNELS),$(TEMP)/$(1)/$(k).xo) $(BUILD)/$(1).cfg | check-target check-vitis check-xrt check-toolchain check-budget
	$(VPP) -l -t $(TARGET) --platform $(PLATFORM) $(VPP_DEBUG) $(VPP_PROFILE) $(VPP_FLAGS) --temp_dir $(TEMP)/$(1) --config $(BUILD)/$(1).cfg --kernel_frequency $(call freq,$(1)) -o $(TEMP)/$(1)/$(1).link.xclbin $(foreach k,$(DESIGN_$(1)_KERNELS),$(TEMP)/$(1)/$(k).xo)
	$(VPP) -p $(TEMP)/$(1)/$(1).link.xclbin -t $(TARGET) --platform $(PLATFORM) --package.out_dir $(TEMP)/$(1)/package -o $$@
endef

$(foreach d,$(DESIGNS),$(foreach k,$(DESIGN_$(d)_KERNELS),$(eval $(call KERNEL_RULE,$(d),$(k)))))
$(foreach d,$(DESIGNS),$(eval $(call DESIGN_RULE,$(d))))

xclbin: check-target check-vitis check-xrt check-toolchain check-budget $(foreach d,$(SELECTED),$(BUILD)/$(d).xclbin)
	@echo "xclbins in $(BUILD)/: $(SELECTED)"
	@$(if $(filter-out hw,$(TARGET)),echo "next: make emconfig TARGET=$(TARGET) PLATFORM=$(PLATFORM)",true)

emconfig: check-target $(BUILD)/emconfig.json

$(BUILD)/emconfig.json: | check-vitis check-xrt
	@if [ "$(TARGET)" = hw ]; then echo "error: emconfig is for TARGET=hw_emu or sw_emu" >&2; exit 2; fi
	@mkdir -p $(BUILD)
	emconfigutil --platform $(PLATFORM) --od $(BUILD)

# What the reports of a finished build say (Vitis HLS csynth reports, the v++ link summary).
report: check-target
	$(DESIGN_PY) report $(TARGET) $(PLATFORM) $(SELECTED)

clean:
	rm -rf build

distclean: clean
	rm -rf $(VENV)
