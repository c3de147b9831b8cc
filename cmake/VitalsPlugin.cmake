# vitals_add_plugin(NAME SOURCES...)
# Builds NAME.so against the SDK header only, exactly as a third party would,
# into ${VITALS_BUILD_PLUGINS_DIR} (or OUTPUT_DIR), and installs bundled ones.
function(vitals_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIR" "" ${ARGN})
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${VITALS_BUILD_PLUGINS_DIR})
  endif()
  add_library(${name} MODULE ${ARG_UNPARSED_ARGUMENTS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/sdk)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR})
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${name} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/vitals/plugins)
  endif()
endfunction()
