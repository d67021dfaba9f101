#!/bin/bash
# Part 3 of 3 of core-v2.sh (read it).
. "$(dirname "$0")/core-v2.sh"
