# Run at every build (cmake -P): writes OUT from build_info.cc.in with the commit SOURCE_DIR is at. configure_file
# rewrites OUT only when that changes, so an unchanged commit recompiles nothing.
#   -DSOURCE_DIR=… -DVERSION=… -DTEMPLATE=… -DOUT=…
set(TF_GIT_COMMIT "")
find_program(GIT git)
if(GIT)
  execute_process(COMMAND ${GIT} -C ${SOURCE_DIR} rev-parse --short=12 HEAD
                  OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE failed ERROR_QUIET)
  if(NOT failed AND commit)
    set(TF_GIT_COMMIT ${commit})
    execute_process(COMMAND ${GIT} -C ${SOURCE_DIR} status --porcelain --untracked-files=no
                    OUTPUT_VARIABLE changes OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(changes)
      string(APPEND TF_GIT_COMMIT "-dirty")
    endif()
  endif()
endif()
set(TF_VERSION ${VERSION})
configure_file(${TEMPLATE} ${OUT} @ONLY)
