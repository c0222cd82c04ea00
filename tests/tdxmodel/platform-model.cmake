# SPDX-License-Identifier: MIT
# platform_model(NAME MODEL_SOURCES ... PROBE_SOURCES ...): a platform model
# on the generic SVM host of this directory (host.c, boot.S, model.ld) and
# its probe on the test guests' runtime, as ${CMAKE_BINARY_DIR}/tests/NAME/
# NAME.elf and probe.elf (ELF32 for QEMU's multiboot loader; target NAME).
# Used by tests/tdxmodel and tests/snpmodel.  Both see microkernel/ as an
# include directory (the model for core/sha384.c, the SNP probe for
# virt/snp_abi.h).
set(PLATFORM_MODEL_HOST ${CMAKE_CURRENT_LIST_DIR})
set(PLATFORM_MODEL_FLAGS -ffreestanding -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only
    -fno-stack-protector -fno-asynchronous-unwind-tables -fno-strict-aliasing -fno-builtin -O2)
set(PLATFORM_MODEL_LINK -nostdlib -static -no-pie -Wl,-z,max-page-size=0x1000 -Wl,--build-id=none
    -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments)

function(platform_model name)
  cmake_parse_arguments(M "" "" "MODEL_SOURCES;PROBE_SOURCES" ${ARGN})
  set(dir ${CMAKE_BINARY_DIR}/tests/${name})
  set(host ${PLATFORM_MODEL_HOST})
  set(guests ${CMAKE_SOURCE_DIR}/tests/guests)
  file(MAKE_DIRECTORY ${dir})

  add_executable(${name}-elf64 ${host}/boot.S ${host}/host.c ${M_MODEL_SOURCES})
  target_compile_options(${name}-elf64 PRIVATE ${COPRA_WARNINGS} ${PLATFORM_MODEL_FLAGS})
  target_compile_definitions(${name}-elf64 PRIVATE MODEL_TAG="${name}")
  target_include_directories(${name}-elf64 PRIVATE ${host} ${CMAKE_SOURCE_DIR}/microkernel)
  target_link_options(${name}-elf64 PRIVATE ${PLATFORM_MODEL_LINK} -Wl,-T,${host}/model.ld)
  set_target_properties(${name}-elf64 PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${dir}
      LINK_DEPENDS ${host}/model.ld)

  add_executable(${name}-probe-elf64 ${guests}/boot.S ${guests}/idt.S ${guests}/runtime.c
      ${M_PROBE_SOURCES})
  target_compile_options(${name}-probe-elf64 PRIVATE ${COPRA_WARNINGS} ${PLATFORM_MODEL_FLAGS})
  target_include_directories(${name}-probe-elf64 PRIVATE ${guests} ${CMAKE_SOURCE_DIR}/microkernel)
  target_link_options(${name}-probe-elf64 PRIVATE ${PLATFORM_MODEL_LINK} -Wl,-T,${guests}/guest.ld)
  set_target_properties(${name}-probe-elf64 PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${dir}
      LINK_DEPENDS ${guests}/guest.ld)

  add_custom_command(OUTPUT ${dir}/${name}.elf ${dir}/probe.elf
      COMMAND ${COPRA_OBJCOPY} -O elf32-i386 $<TARGET_FILE:${name}-elf64> ${dir}/${name}.elf
      COMMAND ${COPRA_OBJCOPY} -O elf32-i386 $<TARGET_FILE:${name}-probe-elf64> ${dir}/probe.elf
      DEPENDS ${name}-elf64 ${name}-probe-elf64
      COMMENT "${name}: platform model and probe, ELF32 images")
  add_custom_target(${name} ALL DEPENDS ${dir}/${name}.elf ${dir}/probe.elf)
endfunction()
