<?php
// Dashboard stand-in; the vhost raises memory_limit for wp-admin.
echo 'memory_limit=', ini_get( 'memory_limit' ), ' max_execution_time=', ini_get( 'max_execution_time' ), "\n";
